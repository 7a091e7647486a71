/**
 * Issue 5: a campaign of many recipients (10,000 by default; 100,000 with NOTIFY_CRASH_PEOPLE) killed with -9 about halfway and run again. Every person
 * must end with exactly one `sent` outbox row, the SMTP peer (smtp-server on 127.0.0.1) must have
 * received every recipient, and the only repeats allowed are the messages in flight at the kill
 * (rows leased by the dead process), each with the same Message-ID.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parseStoreLocation, Store } from '../../src/store/store.js';
import { seedNotifyIncident } from '../notify-fixture.js';
import { startSmtpSink } from '../servers/smtp-sink.js';
import { startLeakwatch } from '../watch-process.js';

// 100,000 by NOTIFY_CRASH_PEOPLE=100000: at the ~200 messages/s this 2-core CI reaches (nodemailer alone: ~230)
// that takes ~9 minutes, so the default is 10,000 (same code paths, same kill halfway).
const total = Number(process.env['NOTIFY_CRASH_PEOPLE'] ?? 10_000);
const secret = randomBytes(32).toString('base64');
process.env['LEAKWATCH_SECRET_KEY'] = secret;
const dir = mkdtempSync(join(tmpdir(), 'lw-notify-crash-'));
const storeDir = join(dir, 'store');

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function withStore<T>(work: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(parseStoreLocation(storeDir), 'test');
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

it(`a campaign of ${total} killed with -9 halfway and resumed reaches everyone once`, async () => {
  const t0 = Date.now();
  const incidentId = await withStore(async (store) =>
    seedNotifyIncident(store, store.peopleKeys(), { people: total, name: 'crash' }),
  );
  const seededMs = Date.now() - t0;
  // Headers only: 100,000 whole letters would not fit in the test's memory.
  const sink = await startSmtpSink({ keep: 'headers' });
  const args = [
    'notify',
    String(incidentId),
    '--smtp',
    sink.url,
    '--from',
    'notices@example.org',
    '--store',
    storeDir,
  ];
  const env = { LEAKWATCH_SECRET_KEY: secret };
  try {
    const t1 = Date.now();
    const first = startLeakwatch(args, { env, hardLimitMs: 600_000 });
    const deadline = Date.now() + 300_000;
    while (sink.messages.length < total / 2 && first.exit === undefined && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(first.exit, first.stderr).toBeUndefined();
    await first.kill();
    const firstMs = Date.now() - t1;
    // The sink may still be reading what the dead process wrote last: let it settle.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const atKill = sink.messages.length;

    const state = await withStore((store) =>
      store.db.query<{ sent: number; leased: number }>(
        `select count(*) filter (where status = 'sent')::int as sent,
                count(*) filter (where status = 'pending' and lease_owner is not null)::int as leased
         from notification where incident_id = $1`,
        [incidentId],
      ),
    );
    const { sent: sentAtKill = 0, leased: inFlight = 0 } = state[0] ?? {};

    const t2 = Date.now();
    const second = startLeakwatch([...args, '--format', 'json'], { env, hardLimitMs: 600_000 });
    const exit = await second.exited;
    const secondMs = Date.now() - t2;
    expect(exit.code, second.stderr).toBe(0);

    const rows = await withStore((store) =>
      store.db.query<{ status: string; n: number }>(
        `select status, count(*)::int as n from notification where incident_id = $1 group by status`,
        [incidentId],
      ),
    );
    const perPerson = await withStore((store) =>
      store.db.query<{ people: number; maxRows: number }>(
        `select count(distinct person_id)::int as people, max(c)::int as "maxRows"
         from (select person_id, count(*) as c from notification where incident_id = $1 and status = 'sent' group by person_id) x`,
        [incidentId],
      ),
    );
    const recipients = new Map<string, number>();
    const messageIds = new Map<string, string>();
    let mismatched = 0;
    for (const message of sink.messages) {
      const to = message.envelope.to[0] ?? '';
      recipients.set(to, (recipients.get(to) ?? 0) + 1);
      const id = message.messageId ?? '';
      const known = messageIds.get(to);
      if (known !== undefined && known !== id) mismatched++;
      messageIds.set(to, id);
    }
    const distinctIds = new Set(messageIds.values()).size;
    const duplicates = sink.messages.length - recipients.size;
    const figures = {
      people: total,
      seedMs: seededMs,
      firstRunMs: firstMs,
      receivedAtKill: atKill,
      sentRowsAtKill: sentAtKill,
      leasedAtKill: inFlight,
      secondRunMs: secondMs,
      received: sink.messages.length,
      distinctRecipients: recipients.size,
      distinctMessageIds: distinctIds,
      duplicates,
      ratePerSecond: Math.round((total / (firstMs + secondMs)) * 1000),
    };
    process.stderr.write(`notify-crash figures: ${JSON.stringify(figures)}\n`);

    expect(rows).toEqual([{ status: 'sent', n: total }]);
    expect(perPerson).toEqual([{ people: total, maxRows: 1 }]);
    expect(recipients.size).toBe(total);
    expect(distinctIds).toBe(total);
    expect(mismatched).toBe(0);
    // Only what the dead process had leased and not yet marked sent can have gone out twice.
    expect(duplicates).toBeLessThanOrEqual(inFlight);
    expect(second.stdout + second.stderr).not.toMatch(/person\d+@example\.test/);
  } finally {
    await sink.stop();
  }
}, 900_000);
