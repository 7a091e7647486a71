import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProbeStatus, ScanReport, TargetReport } from '../core/scan-report.js';
import { decideObservation } from '../watch/decide-observation.js';
import type { WatchEvent } from '../watch/watch-event.js';
import { migrate } from './migrate.js';
import { migrations } from './migrations.js';
import { StoreBusyError } from './store-errors.js';
import { parseStoreLocation, Store, type StoreLocation } from './store.js';

function targetReport(status: ProbeStatus, overrides: Partial<TargetReport> = {}): TargetReport {
  return {
    target: 'redis://127.0.0.1:6379',
    protocol: 'redis',
    status,
    detail: `redis says ${status}`,
    indicators: [],
    collections: [],
    fields: [],
    subjects: { total: 0, byCategory: {} },
    severity: status === 'open' ? 'high' : 'info',
    fingerprint: 'fp',
    ...overrides,
  };
}

function scanReport(targets: TargetReport[]): ScanReport {
  return {
    schemaVersion: 1,
    tool: { name: 'leakwatch', version: '0.1.0' },
    startedAt: '2024-03-01T10:00:00.000Z',
    finishedAt: '2024-03-01T10:00:05.000Z',
    targets,
  };
}

/** Waits for a short-lived child to exit and returns its (now unused) pid. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('true', [], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => {
      if (child.pid === undefined) reject(new Error('no pid'));
      else resolve(child.pid);
    });
  });
}

const dirs: string[] = [];
function tempLocation(): StoreLocation & { kind: 'pglite' } {
  const base = mkdtempSync(join(tmpdir(), 'lw-store-'));
  dirs.push(base);
  return { kind: 'pglite', dir: join(base, 'nested', 'state') };
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('parseStoreLocation', () => {
  it('takes postgres URLs and directories, and rejects other schemes without echoing a password', () => {
    expect(parseStoreLocation('postgres://u@127.0.0.1:5432/db')).toEqual({
      kind: 'postgres',
      url: 'postgres://u@127.0.0.1:5432/db',
    });
    expect(parseStoreLocation('/tmp/x')).toEqual({ kind: 'pglite', dir: '/tmp/x' });
    expect(() => parseStoreLocation('mysql://u:hunter2@127.0.0.1/db')).toThrow(/unsupported --store/);
    expect(() => parseStoreLocation('mysql://u:hunter2@127.0.0.1/db')).not.toThrow(/hunter2/);
    expect(() => parseStoreLocation('  ')).toThrow(/empty --store/);
  });
});

describe('the lock file', () => {
  it('respects a lock of a live process on this host', async () => {
    const location = tempLocation();
    mkdirSync(location.dir, { recursive: true });
    // pid 1 is always alive (EPERM counts as alive when it is not ours).
    const lock = { pid: 1, host: hostname(), command: 'watch', since: new Date().toISOString() };
    writeFileSync(join(location.dir, 'leakwatch.lock'), JSON.stringify(lock));
    const error = await Store.open(location, 'scan').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreBusyError);
    expect((error as StoreBusyError).message).toContain('"leakwatch watch" (pid 1 on');
    expect(JSON.parse(readFileSync(join(location.dir, 'leakwatch.lock'), 'utf8'))).toEqual(lock);
    // Refused before PGlite touched the directory.
    expect(existsSync(join(location.dir, 'pgdata'))).toBe(false);
  });

  it('respects a lock written on another host, whatever its pid', async () => {
    const location = tempLocation();
    mkdirSync(location.dir, { recursive: true });
    const lock = { pid: await deadPid(), host: `not-${hostname()}`, command: 'watch', since: 'x' };
    writeFileSync(join(location.dir, 'leakwatch.lock'), JSON.stringify(lock));
    await expect(Store.open(location, 'scan')).rejects.toBeInstanceOf(StoreBusyError);
  });
});

// One PGlite store for the whole file: starting PGlite (WebAssembly) takes seconds.
describe('Store (PGlite)', () => {
  const location = tempLocation();
  const lockPath = join(location.dir, 'leakwatch.lock');
  let store: Store;
  beforeAll(async () => {
    store = await Store.open(location, 'test');
  }, 120_000);
  afterAll(async () => {
    await store.close();
  });

  it('open creates the directory and applies every migration', async () => {
    expect(existsSync(join(location.dir, 'pgdata'))).toBe(true);
    const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { pid: number; command: string };
    expect(lock).toMatchObject({ pid: process.pid, command: 'test' });
    const applied = await store.db.query<{ id: number }>('select id from leakwatch_migration order by id');
    expect(applied.map((r) => r.id)).toEqual(migrations.map((m) => m.id));
    expect(await migrate(store.db)).toEqual([]);
  });

  it('refuses a second open while the first holds the directory, naming the holder', async () => {
    const error = await Store.open(location, 'scan').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreBusyError);
    expect((error as StoreBusyError).holder?.pid).toBe(process.pid);
    expect((error as StoreBusyError).message).toContain(`"leakwatch test" (pid ${process.pid} on`);
    // The refused open leaves the holder's lock in place, and the holder keeps working.
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: process.pid, command: 'test' });
    expect(await store.listScans()).toBeDefined();
  });

  it('advertises the status API in the lock, which still keeps others out', async () => {
    store.advertiseApi({ url: 'http://127.0.0.1:9/', token: 'tok' });
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({
      pid: process.pid,
      command: 'test',
      api: { url: 'http://127.0.0.1:9/', token: 'tok' },
    });
    const error = await Store.open(location, 'scan').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as StoreBusyError).holder?.api?.url).toBe('http://127.0.0.1:9/');
    // No drafts of the lock left behind.
    expect(readdirSync(location.dir).filter((name) => name.startsWith('leakwatch.lock'))).toEqual([
      'leakwatch.lock',
    ]);
  });
  beforeEach(async () => {
    await store.db.exec(
      'delete from alert; delete from watch_event; delete from exposure_window; delete from watched_store; delete from scan_run;',
    );
  });

  it('records scans and lists them newest first with counts', async () => {
    const first = await store.recordScan(
      scanReport([
        targetReport('open', { size: { records: 12 } }),
        targetReport('auth-required', { target: 'postgres://127.0.0.1:5432', protocol: 'postgres' }),
      ]),
    );
    const second = await store.recordScan(scanReport([]));
    expect(second).toBeGreaterThan(first);
    const scans = await store.listScans();
    expect(scans.map((s) => [s.id, s.targets, s.open])).toEqual([
      [second, 0, 0],
      [first, 2, 1],
    ]);
    expect(scans[1]?.startedAt).toEqual(new Date('2024-03-01T10:00:00.000Z'));
    expect(await store.listScans(1)).toHaveLength(1);
    const [stored] = await store.db.query<{ report: ScanReport; records: number }>(
      `select r.report, t.records from scan_run r join scan_target t on t.run_id = r.id
       where r.id = $1 and t.position = 0`,
      [first],
    );
    // jsonb round-trips as an object (not a JSON string), int8 as a number.
    expect(stored?.report.targets).toHaveLength(2);
    expect(stored?.records).toBe(12);
  });

  it('upserts watched stores: same id on re-upsert, credentials only in probeTarget', async () => {
    const definition = {
      name: 'sessions',
      target: 'redis://:s3cret@127.0.0.1:6379',
      protocol: 'redis',
      owner: 'platform',
      tags: ['prod', 'eu'],
      intervalMs: 5_000,
    };
    const [row] = await store.upsertWatchedStores([definition]);
    expect(row).toMatchObject({
      name: 'sessions',
      probeTarget: 'redis://:s3cret@127.0.0.1:6379',
      protocol: 'redis',
      owner: 'platform',
      tags: ['prod', 'eu'],
      intervalMs: 5_000,
      active: true,
      state: 'unknown',
    });
    expect(row?.target).not.toContain('s3cret');
    expect(row?.target).toContain('127.0.0.1:6379');
    const [again] = await store.upsertWatchedStores([{ ...definition, intervalMs: 9_000, tags: [] }]);
    expect(again?.id).toBe(row?.id);
    expect(again).toMatchObject({ intervalMs: 9_000, tags: [] });
    expect(await store.listWatchedStores()).toHaveLength(1);
    expect((await store.findWatchedStore('sessions'))?.id).toBe(row?.id);
    expect((await store.findWatchedStore('redis://127.0.0.1:6379'))?.id).toBe(row?.id);
    expect((await store.findWatchedStore('redis://:s3cret@127.0.0.1:6379'))?.id).toBe(row?.id);
    expect(await store.findWatchedStore('nope')).toBeUndefined();
    const { probeTarget, ...shown } = again ?? { probeTarget: '' };
    expect(probeTarget).toContain('s3cret');
    expect(JSON.stringify(shown)).not.toContain('s3cret');
  });

  async function watched(): Promise<number> {
    const [row] = await store.upsertWatchedStores([
      { name: 'cache', target: 'redis://127.0.0.1:6379', protocol: 'redis', intervalMs: 1_000 },
    ]);
    if (row === undefined) throw new Error('no row');
    return row.id;
  }

  const observe = (id: number, status: ProbeStatus, at: Date, channels = ['webhook', 'slack']) =>
    store.recordObservation(id, channels, (row, window) =>
      decideObservation(row, window, {
        at,
        report: targetReport(status, { size: { records: 40 }, server: { product: 'redis', version: '7' } }),
        classified: false,
      }),
    );

  it('records observations: state, window, events and one alert per channel', async () => {
    const id = await watched();
    const t = (s: number) => new Date(Date.UTC(2024, 2, 1, 10, 0, s));
    expect(await observe(id, 'auth-required', t(0))).toMatchObject([
      { kind: 'first-seen', toState: 'protected' },
    ]);
    const [opened] = await observe(id, 'open', t(10));
    expect(await observe(id, 'open', t(20))).toEqual([]);
    const [closed] = await observe(id, 'auth-required', t(30));

    expect(opened).toMatchObject({ kind: 'opened', fromState: 'protected', toState: 'open' });
    const payload = opened?.payload as WatchEvent;
    expect(payload.id).toBe(`lw-evt-${opened?.id}`);
    expect(payload.window).toMatchObject({ openedAt: t(10).toISOString(), openedAfter: t(0).toISOString() });

    const row = await store.getWatchedStore(id);
    expect(row).toMatchObject({
      state: 'protected',
      stateSince: t(30),
      lastProtectedAt: t(30),
      lastOpenAt: t(20),
      records: 40,
      server: { product: 'redis', version: '7' },
    });
    const windows = await store.listWindows(id);
    expect(windows).toEqual([
      {
        id: windows[0]?.id,
        storeId: id,
        openedAt: t(10),
        openedAfter: t(0),
        lastOpenAt: t(20),
        closedAt: t(30),
      },
    ]);
    expect(await store.openWindow(id)).toBeUndefined();
    expect(closed?.windowId).toBe(windows[0]?.id);
    expect((closed?.payload as WatchEvent).window?.durationMs).toBe(20_000);

    const events = await store.listEvents(id);
    expect(events.map((e) => e.kind)).toEqual(['first-seen', 'opened', 'closed']);
    // The stored payload is the one returned.
    expect(events[1]?.payload).toEqual(payload);
    const alerts = await store.listAlerts(events.map((e) => e.id));
    // first-seen of a protected store raises no alert; opened and closed one per channel.
    expect(alerts.map((a) => [a.eventId, a.channel, a.status])).toEqual([
      [opened?.id, 'webhook', 'pending'],
      [opened?.id, 'slack', 'pending'],
      [closed?.id, 'webhook', 'pending'],
      [closed?.id, 'slack', 'pending'],
    ]);
  });

  it('keeps one window across an outage', async () => {
    const id = await watched();
    const t = (s: number) => new Date(Date.UTC(2024, 2, 1, 11, 0, s));
    await observe(id, 'open', t(0));
    await observe(id, 'unreachable', t(10));
    await observe(id, 'open', t(20));
    expect((await store.listEvents(id)).map((e) => e.kind)).toEqual([
      'first-seen',
      'unreachable',
      'recovered',
    ]);
    const windows = await store.listWindows(id);
    expect(windows).toHaveLength(1);
    expect(windows[0]).toMatchObject({
      openedAt: t(0),
      openedAfter: null,
      lastOpenAt: t(20),
      closedAt: null,
    });
    expect(await store.countOpenWindows()).toBe(1);
  });

  it('writes nothing when deciding or building a payload throws', async () => {
    const id = await watched();
    const before = await store.getWatchedStore(id);
    await expect(
      store.recordObservation(id, ['webhook'], () => {
        throw new Error('decide failed');
      }),
    ).rejects.toThrow('decide failed');
    // A failure after the window and the event rows were inserted must roll them back too.
    await expect(
      store.recordObservation(id, ['webhook'], (row, window) => {
        const write = decideObservation(row, window, {
          at: new Date(),
          report: targetReport('open'),
          classified: false,
        });
        return {
          ...write,
          events: write.events.map((event) => ({
            ...event,
            payload: () => {
              throw new Error('payload failed');
            },
          })),
        };
      }),
    ).rejects.toThrow('payload failed');
    expect(await store.getWatchedStore(id)).toEqual(before);
    expect(await store.listWindows(id)).toEqual([]);
    expect(await store.listEvents(id)).toEqual([]);
    const [alerts] = await store.db.query<{ n: number }>('select count(*)::int as n from alert');
    expect(alerts?.n).toBe(0);
    // And the store still works afterwards.
    expect(await observe(id, 'open', new Date())).toHaveLength(1);
  });

  it('ignores an observation of a store that does not exist', async () => {
    expect(await observe(999_999, 'open', new Date())).toEqual([]);
  });

  describe('alert outbox', () => {
    let eventIds: number[];
    beforeEach(async () => {
      const id = await watched();
      await observe(id, 'open', new Date(Date.now() - 2_000));
      await observe(id, 'auth-required', new Date(Date.now() - 1_000));
      eventIds = (await store.listEvents(id)).map((e) => e.id);
    });

    it('claims due alerts with a lease, hands them out once, and retries after markAlertRetry', async () => {
      const claimed = await store.claimAlerts(['webhook'], 10, 60_000);
      expect(claimed.map((a) => [a.eventId, a.channel])).toEqual([
        [eventIds[0], 'webhook'],
        [eventIds[1], 'webhook'],
      ]);
      expect((claimed[0]?.payload as WatchEvent).id).toBe(`lw-evt-${eventIds[0]}`);
      expect(await store.claimAlerts(['webhook'], 10, 60_000)).toEqual([]);

      const [first, second] = claimed;
      if (first === undefined || second === undefined) throw new Error('two alerts expected');
      await store.markAlertRetry(first.id, 'HTTP 503', new Date(Date.now() - 1_000));
      await store.markAlertSent(second.id);
      const retried = await store.claimAlerts(['webhook'], 10, 60_000);
      expect(retried.map((a) => [a.id, a.attempts, a.lastError])).toEqual([[first.id, 1, 'HTTP 503']]);

      // A retry due in the future is not claimable yet.
      await store.markAlertRetry(first.id, 'HTTP 503', new Date(Date.now() + 60_000));
      expect(await store.claimAlerts(['webhook'], 10, 60_000)).toEqual([]);

      const rows = await store.listAlerts(eventIds);
      const sent = rows.find((a) => a.id === second.id);
      expect(sent).toMatchObject({ status: 'sent', attempts: 1 });
      expect(sent?.sentAt).toBeInstanceOf(Date);
      await store.markAlertFailed(first.id, 'gave up');
      expect((await store.listAlerts(eventIds)).find((a) => a.id === first.id)).toMatchObject({
        status: 'failed',
        attempts: 3,
        lastError: 'gave up',
      });
    });

    it('respects the limit and an expired lease', async () => {
      const [one, ...rest] = await store.claimAlerts(['webhook', 'slack'], 1, 1);
      expect(rest).toEqual([]);
      expect(one?.eventId).toBe(eventIds[0]);
      await new Promise((r) => setTimeout(r, 20));
      // The 1 ms lease ran out: the holder is presumed dead and the alert is handed out again.
      const all = await store.claimAlerts(['webhook', 'slack'], 10, 60_000);
      expect(all).toHaveLength(4);
      expect(all.map((a) => a.id)).toContain(one?.id);
    });

    it('claims nothing for no channels or unknown channels', async () => {
      expect(await store.claimAlerts([], 10, 60_000)).toEqual([]);
      expect(await store.claimAlerts(['email'], 10, 60_000)).toEqual([]);
    });

    it('fails pending alerts of channels no longer configured', async () => {
      const [claimedSlack] = await store.claimAlerts(['slack'], 1, 60_000);
      if (claimedSlack === undefined) throw new Error('a slack alert expected');
      await store.markAlertSent(claimedSlack.id);
      expect(await store.failAlertsOfOtherChannels(['webhook'])).toBe(1);
      const rows = await store.listAlerts(eventIds);
      expect(rows.map((a) => [a.channel, a.status])).toEqual([
        ['webhook', 'pending'],
        ['slack', 'sent'],
        ['webhook', 'pending'],
        ['slack', 'failed'],
      ]);
      expect(rows.find((a) => a.status === 'failed')?.lastError).toBe('channel no longer configured');
      expect(await store.failAlertsOfOtherChannels(['webhook'])).toBe(0);
    });
  });

  // Last: closes the shared store and reopens it over a lock a dead process left behind.
  it('releases the lock on close, takes over a stale lock, and reopening migrates nothing', async () => {
    const id = await watched();
    await store.close();
    expect(existsSync(lockPath)).toBe(false);
    const pid = await deadPid();
    writeFileSync(
      lockPath,
      JSON.stringify({ pid, host: hostname(), command: 'watch', since: new Date().toISOString() }),
    );
    store = await Store.open(location, 'reopen');
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: process.pid, command: 'reopen' });
    expect(await migrate(store.db)).toEqual([]);
    const [row] = await store.db.query<{ n: number }>('select count(*)::int as n from leakwatch_migration');
    expect(row?.n).toBe(migrations.length);
    // The data survived the restart.
    expect((await store.getWatchedStore(id))?.name).toBe('cache');
  }, 60_000);
});
