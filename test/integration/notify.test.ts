/**
 * `leakwatch notify` as a user runs it (a child process) against a real SMTP server (smtp-server,
 * test/servers/smtp-sink.ts) on 127.0.0.1: one letter per person with exactly their categories,
 * deterministic Message-IDs, 4xx retried, 5xx final, canary and dry run, closed incidents refused.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Category } from '../../src/core/category.js';
import { listCategoryWords } from '../../src/incident/category-words.js';
import { closeIncident, loadIncident } from '../../src/incident/incident-store.js';
import { phishingWarning } from '../../src/incident/notification-message.js';
import { parseStoreLocation, Store } from '../../src/store/store.js';
import { personEmail, seedNotifyIncident } from '../notify-fixture.js';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../servers/smtp-sink.js';
import { startLeakwatch } from '../watch-process.js';

const secret = randomBytes(32).toString('base64');
process.env['LEAKWATCH_SECRET_KEY'] = secret;
const dir = mkdtempSync(join(tmpdir(), 'lw-notify-'));
const storeDir = join(dir, 'store');
const from = 'notices@cams.example.org';

const pool: Category[] = [
  'wifi_ssid',
  'device_name',
  'oauth_token',
  'activity_time',
  'gender',
  'health_metric',
];
/** Person i's categories vary: every 4th has body metrics (and gender), others a rotating mix. */
function categoriesOf(i: number): Category[] {
  const own: Category[] = ['email'];
  if (i % 4 === 0) own.push('health_metric', 'gender');
  for (let k = 0; k < pool.length - 2; k++) if ((i >> k) % 2 === 1) own.push(pool[k] as Category);
  return own;
}

const ids: Record<'main' | 'failures' | 'canary' | 'closed', number> = {
  main: 0,
  failures: 0,
  canary: 0,
  closed: 0,
};
const people = { main: 30, failures: 20, canary: 12, closed: 3 };

async function withStore<T>(work: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(parseStoreLocation(storeDir), 'test');
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

async function notify(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = startLeakwatch(['notify', ...args, '--store', storeDir], {
    env: { LEAKWATCH_SECRET_KEY: secret },
    hardLimitMs: 120_000,
  });
  const exit = await proc.exited;
  return { code: exit.code, stdout: proc.stdout, stderr: proc.stderr };
}

/** The decoded text/plain part of a message nodemailer built (multipart/alternative, quoted-printable). */
function plainText(message: SinkMessage): string {
  const start = message.raw.search(/Content-Type: text\/plain/i);
  expect(start).toBeGreaterThanOrEqual(0);
  const part = message.raw.slice(start);
  const bodyStart = part.search(/\r?\n\r?\n/);
  const body = part.slice(bodyStart).replace(/^\r?\n\r?\n/, '');
  const end = body.search(/\r?\n--/);
  const encoded = end < 0 ? body : body.slice(0, end);
  const qp = /Content-Transfer-Encoding: quoted-printable/i.test(part.slice(0, bodyStart));
  if (!qp)
    return /Content-Transfer-Encoding: base64/i.test(part.slice(0, bodyStart))
      ? Buffer.from(encoded, 'base64').toString('utf8')
      : encoded;
  const bytes = encoded
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function personOf(message: SinkMessage): number {
  const match = /^person(\d+)@example\.test$/.exec(message.envelope.to[0] ?? '');
  expect(match).not.toBeNull();
  return Number(match?.[1]);
}

const rawAddress = /person\d+@example\.test/;

beforeAll(async () => {
  await withStore(async (store) => {
    const keys = store.peopleKeys();
    ids.main = await seedNotifyIncident(store, keys, {
      people: people.main,
      categoriesOf,
      name: 'main',
      // Two people without a contact: counted, not mailed.
      withoutContact: (i) => i >= people.main - 2,
    });
    ids.failures = await seedNotifyIncident(store, keys, {
      people: people.failures,
      categoriesOf,
      name: 'failures',
    });
    ids.canary = await seedNotifyIncident(store, keys, {
      people: people.canary,
      categoriesOf,
      name: 'canary',
    });
    ids.closed = await seedNotifyIncident(store, keys, { people: people.closed, name: 'closed' });
    await closeIncident(store, ids.closed, 'test');
  });
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('leakwatch notify', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink.stop();
  });

  it('sends every reachable person exactly one letter that lists exactly their categories', async () => {
    const run = await notify([String(ids.main), '--smtp', sink.url, '--from', from, '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const reachable = people.main - 2;
    expect(sink.messages).toHaveLength(reachable);
    const seen = new Set(sink.messages.map(personOf));
    expect(seen.size).toBe(reachable);
    const messageIds = new Set<string>();
    for (const message of sink.messages) {
      const i = personOf(message);
      expect(message.envelope.from).toBe(from);
      expect(message.messageId).toMatch(new RegExp(`^<inc-${ids.main}\\.p\\d+@cams\\.example\\.org>$`));
      messageIds.add(message.messageId ?? '');
      const text = plainText(message);
      const own = categoriesOf(i);
      expect(text).toContain(`The information about you in the database: ${listCategoryWords(own)}.`);
      // Told about body metrics if and only if theirs leaked.
      expect(text.includes('body measurements'), `person ${i}`).toBe(own.includes('health_metric'));
      expect(text.includes('gender'), `person ${i}`).toBe(own.includes('gender'));
      expect(text).toContain(phishingWarning.heading);
      expect(text).toContain('We will never ask you for your password');
      expect(text).not.toMatch(/DRAFT|to be completed|Drafting notes/);
      expect(text).not.toMatch(/https?:\/\//);
      expect(message.raw).toMatch(/Content-Type: text\/html/i);
    }
    expect(messageIds.size).toBe(reachable);
    for (const out of [run.stdout, run.stderr]) expect(out).not.toMatch(rawAddress);
    const tally = JSON.parse(run.stdout) as {
      outbox: { sent: number; pending: number; failed: number };
      completed: boolean;
    };
    expect(tally.outbox).toMatchObject({ sent: reachable, pending: 0, failed: 0 });
    expect(tally.completed).toBe(true);

    await withStore(async (store) => {
      const rows = await store.db.query<{ status: string; messageId: string; n: number }>(
        `select status, message_id as "messageId", (select count(*)::int from notification m where m.person_id = n.person_id) as n
         from notification n where incident_id = $1`,
        [ids.main],
      );
      expect(rows.every((r) => r.status === 'sent' && r.n === 1)).toBe(true);
      expect(new Set(rows.map((r) => r.messageId))).toEqual(messageIds);
      const incident = await loadIncident(store, ids.main);
      expect(
        incident?.timeline.filter((e) => e.kind === 'notification' && e.deadline === 'gdpr-34'),
      ).toHaveLength(1);
      expect(incident?.deadlines.find((d) => d.id === 'gdpr-34')?.doneAt).toBeDefined();
    });

    // Running it again sends nothing: every row is already sent.
    const again = await notify([String(ids.main), '--smtp', sink.url, '--from', from]);
    expect(again.code, again.stderr).toBe(0);
    expect(sink.messages).toHaveLength(reachable);
  }, 120_000);

  it('refuses a closed incident (its contacts are purged)', async () => {
    const run = await notify([String(ids.closed), '--smtp', sink.url, '--from', from]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/closed/);
  }, 60_000);
});

describe('leakwatch notify against a relay that refuses', () => {
  const transient = (i: number) => i % 5 === 1;
  const permanent = (i: number) => i % 7 === 3;
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink({
      failWith(rcpt, n) {
        const i = Number(/^person(\d+)@/.exec(rcpt)?.[1]);
        if (permanent(i)) return { code: 550, message: 'mailbox unavailable' };
        if (transient(i) && n <= 2)
          return { code: 451, message: 'try again later', ...(n === 2 ? { at: 'data' as const } : {}) };
        return undefined;
      },
    });
  });
  afterAll(async () => {
    await sink.stop();
  });

  it('retries 4xx with backoff until delivered and marks 5xx failed without retrying', async () => {
    const run = await notify([
      String(ids.failures),
      '--smtp',
      sink.url,
      '--from',
      from,
      '--kind',
      'us-ca',
      '--retry-delay',
      '100ms',
      '--attempts',
      '5',
      '--format',
      'json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const all = Array.from({ length: people.failures }, (_, i) => i);
    const delivered = sink.messages.map(personOf).sort((a, b) => a - b);
    expect(delivered).toEqual(all.filter((i) => !permanent(i)));
    const refusedPermanently = sink.refusals
      .filter((r) => r.code === 550)
      .map((r) => r.rcpt)
      .sort();
    expect(refusedPermanently).toEqual(all.filter(permanent).map(personEmail).sort());
    expect(sink.refusals.filter((r) => r.code === 451)).toHaveLength(
      2 * all.filter((i) => transient(i) && !permanent(i)).length,
    );
    const tally = JSON.parse(run.stdout) as {
      outbox: { sent: number; failed: number; pending: number };
      run: { retried: number };
    };
    expect(tally.outbox).toMatchObject({
      sent: delivered.length,
      failed: all.filter(permanent).length,
      pending: 0,
    });
    expect(tally.run.retried).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/failed permanently 3/);
    expect(run.stderr).toMatch(/leakwatch notify \S+ --failed/);
    for (const out of [run.stdout, run.stderr]) expect(out).not.toMatch(rawAddress);
    for (const message of sink.messages) expect(plainText(message)).toContain('Notice of Data Breach');

    const failed = await notify([String(ids.failures), '--failed', '--format', 'json']);
    expect(failed.code, failed.stderr).toBe(0);
    expect((JSON.parse(failed.stdout) as { failed: number }).failed).toBe(all.filter(permanent).length);
    expect(failed.stdout + failed.stderr).not.toMatch(rawAddress);
    await withStore(async (store) => {
      const incident = await loadIncident(store, ids.failures);
      expect(
        incident?.timeline.some((e) => e.kind === 'notification' && e.deadline === 'us-ca-individuals'),
      ).toBe(true);
    });
  }, 120_000);
});

describe('leakwatch notify --canary and --dry-run', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink.stop();
  });

  const snapshot = () =>
    withStore((store) =>
      store.db.query(`select * from notification where incident_id = $1 order by id`, [ids.canary]),
    );

  it('a dry run sends nothing and changes nothing; a canary sends N; the next run the rest', async () => {
    const dry = await notify([String(ids.canary), '--smtp', sink.url, '--from', from, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^To: p\*\*\*@e\*\*\*\.test$/m);
    expect(dry.stdout).toContain('The information about you in the database:');
    expect(dry.stderr).toMatch(/would send 12 messages/);
    expect(dry.stdout + dry.stderr).not.toMatch(rawAddress);
    expect(await snapshot()).toEqual([]);

    const canary = await notify([String(ids.canary), '--smtp', sink.url, '--from', from, '--canary', '5']);
    expect(canary.code, canary.stderr).toBe(0);
    // The pool sends in parallel: arrival order is not id order, the set is what --canary decides.
    expect(sink.messages.map(personOf).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    expect(canary.stderr).toMatch(/canary of 5 done/);

    const before = await snapshot();
    const dry2 = await notify([String(ids.canary), '--from', from, '--dry-run', '--format', 'json']);
    expect(dry2.code, dry2.stderr).toBe(0);
    expect((JSON.parse(dry2.stdout) as { wouldSend: number }).wouldSend).toBe(7);
    expect(await snapshot()).toEqual(before);
    expect(sink.messages).toHaveLength(5);

    const rest = await notify([String(ids.canary), '--smtp', sink.url, '--from', from]);
    expect(rest.code, rest.stderr).toBe(0);
    expect(sink.messages.map(personOf).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 12 }, (_, i) => i),
    );
    expect(rest.stderr).toMatch(/campaign complete/);
  }, 180_000);
});
