import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptText, keyedHash } from '../../src/core/sealed-text.js';
import { closeIncident, loadIncident } from '../../src/incident/incident-store.js';
import { openIncident } from '../../src/incident/open-incident.js';
import { parseStoreLocation, Store } from '../../src/store/store.js';
import { StoreProber } from '../../src/watch/store-prober.js';
import { runCli } from '../run-cli.js';
import { startRedis, type PrivateRedis } from '../servers/redis-server.js';

// Six customers of the story: emails for all, WiFi names for four, body metrics for two.
const customers: { id: string; [field: string]: string }[] = [
  { id: 'u1', email: 'Ann.Lee@example.com', ssid: 'Lee-Home', weight_kg: '61.2', height_cm: '165' },
  { id: 'u2', email: 'bob@example.org', ssid: 'BobNet' },
  { id: 'u3', email: 'cara@example.net', ssid: 'CaraWifi', weight_kg: '74.0', height_cm: '181' },
  { id: 'u4', email: 'dan@example.com', ssid: 'Dan-5G' },
  { id: 'u5', email: 'eve@example.com' },
  { id: 'u6', email: 'fay@example.org' },
];

let redis: PrivateRedis;
let dir: string;
let store: Store;

beforeAll(async () => {
  redis = await startRedis(['--requirepass', 'pw-before']);
  for (const c of customers) {
    const { id, ...rest } = c;
    const fields: Record<string, string> = rest;
    await redis.cli('HSET', `customer:${id}`, 'user_id', id, ...Object.entries(fields).flat());
  }
  dir = mkdtempSync(join(tmpdir(), 'lw-incident-'));
  process.env['LEAKWATCH_KEY_FILE'] = join(dir, 'secret.key');
  store = await Store.open(parseStoreLocation(join(dir, 'store')), 'test');
}, 120_000);

afterAll(async () => {
  await store.close();
  await redis.stop();
  delete process.env['LEAKWATCH_KEY_FILE'];
  rmSync(dir, { recursive: true, force: true });
});

describe('incident open: every affected person from a read-only re-read', () => {
  it('records the window, lists each person with their own categories, and purges contacts on close', async () => {
    const target = `redis://127.0.0.1:${redis.port}`;
    const [row] = await store.upsertWatchedStores([
      { name: 'analytics-copy', target, protocol: 'redis', intervalMs: 1000 },
    ]);
    const prober = new StoreProber(
      store,
      { timeoutMs: 3000, classifyIntervalMs: 60_000, sampleLimit: 1000, sampleTimeoutMs: 10_000 },
      [],
    );
    await prober.probe(row!.id); // protected
    await redis.setPassword(''); // the mistake
    await prober.probe(row!.id); // opened
    await redis.setPassword('pw-after'); // contained
    await prober.probe(row!.id); // closed

    // Protected again: without credentials the re-read is refused with a hint, not a crash.
    await expect(openIncident(store, { target: 'analytics-copy' })).rejects.toThrow(
      /name read-only credentials/,
    );

    const opened = await openIncident(store, { target: `redis://:pw-after@127.0.0.1:${redis.port}` });
    expect(opened.created).toBe(true);
    const incident = await loadIncident(store, opened.id);
    expect(incident?.subjects.total).toBe(6);
    expect(incident?.subjects.byCategory).toMatchObject({ email: 6, wifi_ssid: 4, health_metric: 2 });
    expect(incident?.reachable).toBe(6);
    expect(incident?.window.openedAfter).toBeDefined();
    expect(incident?.window.closedAt).toBeDefined();
    expect(incident?.jurisdictions).toEqual(['gdpr', 'us-ca', 'hipaa', 'ftc-hbnr']);
    const gdpr33 = incident?.deadlines.find((d) => d.id === 'gdpr-33');
    expect(Date.parse(gdpr33!.dueAt!) - Date.parse(incident!.awareAt)).toBe(72 * 3_600_000);
    expect(incident?.timeline.map((t) => t.kind)).toEqual([
      'exposure-start',
      'detected',
      'exposure-end',
      'aware',
      'people-computed',
    ]);

    // Per person: exactly their categories; contacts only sealed.
    const keys = store.peopleKeys();
    const people = await store.db.query<{
      categories: string[];
      contact: string | null;
      contactHash: string;
    }>(
      'select categories, contact, contact_hash as "contactHash" from affected_person where incident_id = $1',
      [opened.id],
    );
    const ann = people.find((p) => p.contactHash === keyedHash(keys.hmacKey, 'email:ann.lee@example.com'));
    expect(ann?.categories).toEqual(expect.arrayContaining(['email', 'wifi_ssid', 'health_metric']));
    expect(decryptText(keys.encryptionKey, ann!.contact!)).toBe('Ann.Lee@example.com');
    const eve = people.find((p) => p.contactHash === keyedHash(keys.hmacKey, 'email:eve@example.com'));
    expect(eve?.categories).not.toContain('health_metric');
    const dump = JSON.stringify(await store.db.query('select * from affected_person'));
    for (const c of customers) expect(dump).not.toContain(c.email);

    // Opening again for the same window returns the same incident.
    expect((await openIncident(store, { target: 'analytics-copy' })).id).toBe(opened.id);

    // The timeline is append-only, in the database itself.
    await expect(store.db.query('update incident_timeline set detail = $1', ['rewritten'])).rejects.toThrow(
      /append-only/,
    );
    await expect(store.db.query('delete from incident_timeline')).rejects.toThrow(/append-only/);

    expect(await closeIncident(store, opened.id, 'done')).toBe(6);
    const [left] = await store.db.query<{ n: number }>(
      'select count(*)::int as n from affected_person where incident_id = $1 and (contact is not null or identifier is not null)',
      [opened.id],
    );
    expect(left?.n).toBe(0);
    expect((await loadIncident(store, opened.id))?.status).toBe('closed');
  }, 120_000);
});

describe('leakwatch incident (CLI)', () => {
  it('open --format json prints id, window and subjects; show/list work; bad ids are usage errors', async () => {
    const storeDir = join(dir, 'store');
    await store.close();
    try {
      const list = await runCli(['incident', 'list', '--store', storeDir, '--format', 'json'], {
        timeoutMs: 90_000,
      });
      expect(list.code).toBe(0);
      const incidents = JSON.parse(list.stdout) as { ref: string; people: number }[];
      expect(incidents[0]).toMatchObject({ ref: 'INC-0001', people: 6 });
      const show = await runCli(['incident', 'show', 'INC-0001', '--store', storeDir], { timeoutMs: 90_000 });
      expect(show.code).toBe(0);
      expect(show.stdout).toContain('GDPR Art. 33(1)');
      expect(show.stdout).not.toContain('example.com');
      const missing = await runCli(['incident', 'show', 'INC-0099', '--store', storeDir], {
        timeoutMs: 90_000,
      });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('no incident');
      const unknown = await runCli(
        ['incident', 'open', '--target', 'redis://127.0.0.1:1', '--store', storeDir],
        {
          timeoutMs: 90_000,
        },
      );
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('not a watched store');
    } finally {
      store = await Store.open(parseStoreLocation(storeDir), 'test');
    }
  }, 300_000);
});
