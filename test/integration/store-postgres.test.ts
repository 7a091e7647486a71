import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeStatus, TargetReport } from '../../src/core/scan-report.js';
import { migrate } from '../../src/store/migrate.js';
import { migrations } from '../../src/store/migrations.js';
import { openPostgresDatabase } from '../../src/store/postgres-database.js';
import type { SqlClient } from '../../src/store/sql-client.js';
import { Store } from '../../src/store/store.js';
import { decideObservation } from '../../src/watch/decide-observation.js';
import type { WatchEvent } from '../../src/watch/watch-event.js';
import { startPostgres, type PrivatePostgres } from '../servers/postgres-server.js';

let started: PrivatePostgres | undefined;
const pgliteDir = mkdtempSync(join(tmpdir(), 'lw-store-pg-'));
const opened: Store[] = [];

function pg(): PrivatePostgres {
  if (started === undefined) throw new Error('PostgreSQL did not start');
  return started;
}

function urlOf(database: string): string {
  return `postgres://postgres@127.0.0.1:${pg().port}/${database}`;
}

async function openStore(database = 'postgres'): Promise<Store> {
  const store = await Store.open({ kind: 'postgres', url: urlOf(database) }, 'test');
  opened.push(store);
  return store;
}

async function closeStore(store: Store): Promise<void> {
  opened.splice(opened.indexOf(store), 1);
  await store.close();
}

function targetReport(status: ProbeStatus): TargetReport {
  return {
    target: 'redis://127.0.0.1:6379',
    protocol: 'redis',
    status,
    detail: `redis says ${status}`,
    size: { records: 40 },
    indicators: [],
    collections: [],
    fields: [],
    subjects: { total: 0, byCategory: {} },
    severity: status === 'open' ? 'high' : 'info',
    fingerprint: 'fp',
  };
}

function observe(store: Store, id: number, status: ProbeStatus, at: Date, channels: string[]) {
  return store.recordObservation(id, channels, (row, window) =>
    decideObservation(row, window, { at, report: targetReport(status), classified: false }),
  );
}

/** The schema as PostgreSQL itself describes it: every column of every table, and every index. */
async function describeSchema(db: SqlClient): Promise<{ columns: unknown[]; indexes: unknown[] }> {
  const columns = await db.query(
    `select table_name, column_name, ordinal_position, data_type, is_nullable, column_default, is_identity
     from information_schema.columns where table_schema = 'public'
     order by table_name, ordinal_position`,
  );
  const indexes = await db.query(
    `select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' order by indexname`,
  );
  return { columns, indexes };
}

beforeAll(async () => {
  started = await startPostgres({ auth: 'trust' });
}, 120_000);

afterAll(async () => {
  for (const store of opened.splice(0)) await store.close().catch(() => undefined);
  await started?.stop();
  rmSync(pgliteDir, { recursive: true, force: true });
});

describe('store on a real PostgreSQL', () => {
  it('has exactly the schema of the embedded PGlite store (one schema for both)', async () => {
    const postgres = await openStore();
    const pglite = await Store.open({ kind: 'pglite', dir: pgliteDir }, 'test');
    try {
      expect(postgres.db.kind).toBe('postgres');
      expect(pglite.db.kind).toBe('pglite');
      const onPostgres = await describeSchema(postgres.db);
      const onPglite = await describeSchema(pglite.db);
      expect(onPostgres.columns.length).toBeGreaterThan(40);
      expect(onPglite).toEqual(onPostgres);
      expect(await migrate(postgres.db)).toEqual([]);
    } finally {
      await pglite.close();
      await closeStore(postgres);
    }
  }, 90_000);

  it('concurrent migrations of a fresh database apply each migration exactly once', async () => {
    // Several rounds: the race between two starting processes is a matter of timing.
    for (let round = 0; round < 4; round++) {
      const database = `race_${round}`;
      await pg().psql(`create database ${database}`);
      const [a, b] = await Promise.all([
        openPostgresDatabase(urlOf(database)),
        openPostgresDatabase(urlOf(database)),
      ]);
      try {
        const [fromA, fromB] = await Promise.all([migrate(a), migrate(b)]);
        expect([...fromA, ...fromB].sort((x, y) => x - y)).toEqual(migrations.map((m) => m.id));
        const [row] = await a.query<{ n: number }>('select count(*)::int as n from leakwatch_migration');
        expect(row?.n).toBe(migrations.length);
      } finally {
        await a.close();
        await b.close();
      }
    }
  });

  it('two Store.open calls at once on a fresh database both succeed', async () => {
    await pg().psql('create database race_open');
    const [a, b] = await Promise.all([openStore('race_open'), openStore('race_open')]);
    const [row] = await a.db.query<{ n: number }>('select count(*)::int as n from leakwatch_migration');
    expect(row?.n).toBe(migrations.length);
    await closeStore(a);
    await closeStore(b);
  });

  it('records observations, windows, events and alerts as the embedded store does', async () => {
    const store = await openStore();
    try {
      const [row] = await store.upsertWatchedStores([
        { name: 'sessions', target: 'redis://:s3cret@127.0.0.1:6379', protocol: 'redis', intervalMs: 1_000 },
      ]);
      if (row === undefined) throw new Error('no row');
      expect(row.target).not.toContain('s3cret');
      expect(row.probeTarget).toContain('s3cret');
      const [again] = await store.upsertWatchedStores([
        { name: 'sessions', target: 'redis://:s3cret@127.0.0.1:6379', protocol: 'redis', intervalMs: 2_000 },
      ]);
      expect(again).toMatchObject({ id: row.id, intervalMs: 2_000 });

      const t = (s: number) => new Date(Date.UTC(2024, 2, 1, 10, 0, s));
      await observe(store, row.id, 'auth-required', t(0), ['webhook']);
      const [opened] = await observe(store, row.id, 'open', t(10), ['webhook']);
      await observe(store, row.id, 'unreachable', t(20), ['webhook']);
      await observe(store, row.id, 'open', t(30), ['webhook']);
      const [closed] = await observe(store, row.id, 'auth-required', t(40), ['webhook']);
      const events = await store.listEvents(row.id);
      expect(events.map((e) => e.kind)).toEqual([
        'first-seen',
        'opened',
        'unreachable',
        'recovered',
        'closed',
      ]);
      expect((opened?.payload as WatchEvent).id).toBe(`lw-evt-${opened?.id}`);
      expect(JSON.stringify(events)).not.toContain('s3cret');
      expect(await store.listWindows(row.id)).toEqual([
        {
          id: closed?.windowId,
          storeId: row.id,
          openedAt: t(10),
          openedAfter: t(0),
          lastOpenAt: t(30),
          closedAt: t(40),
        },
      ]);
      expect(await store.getWatchedStore(row.id)).toMatchObject({ state: 'protected', records: 40 });

      // A failure inside the transaction leaves nothing behind.
      await expect(
        store.recordObservation(row.id, ['webhook'], (current, window) => ({
          ...decideObservation(current, window, {
            at: t(50),
            report: targetReport('open'),
            classified: false,
          }),
          events: [
            {
              kind: 'opened',
              at: t(50),
              fromState: 'protected',
              toState: 'open',
              alert: true,
              payload: () => {
                throw new Error('payload failed');
              },
            },
          ],
        })),
      ).rejects.toThrow('payload failed');
      expect(await store.listEvents(row.id)).toHaveLength(5);
      expect(await store.listWindows(row.id)).toHaveLength(1);
      expect((await store.getWatchedStore(row.id))?.state).toBe('protected');

      const claimed = await store.claimAlerts(['webhook'], 10, 60_000);
      expect(claimed.map((a) => a.eventId)).toEqual(
        events.filter((e) => e.kind !== 'first-seen').map((e) => e.id),
      );
      expect(await store.claimAlerts(['webhook'], 10, 60_000)).toEqual([]);
      await store.markAlertRetry(claimed[0]!.id, 'HTTP 500', new Date(Date.now() - 1_000));
      expect((await store.claimAlerts(['webhook'], 10, 60_000)).map((a) => a.id)).toEqual([claimed[0]!.id]);
    } finally {
      await closeStore(store);
    }
  });

  it('two dispatchers claiming at once never get the same alert', async () => {
    await pg().psql('create database claims');
    const [a, b] = await Promise.all([openStore('claims'), openStore('claims')]);
    try {
      const [row] = await a.upsertWatchedStores([
        { name: 'flappy', target: 'redis://127.0.0.1:6380', protocol: 'redis', intervalMs: 1_000 },
      ]);
      if (row === undefined) throw new Error('no row');
      // 40 open/closed transitions, each alerting on two channels: 80 alerts.
      for (let i = 0; i < 40; i++) {
        await observe(
          a,
          row.id,
          i % 2 === 0 ? 'open' : 'auth-required',
          new Date(Date.UTC(2024, 0, 1, 0, 0, i)),
          ['webhook', 'slack'],
        );
      }
      const seen = new Map<number, string>();
      const counts = { a: 0, b: 0 };
      for (let round = 0; round < 100; round++) {
        const [fromA, fromB] = await Promise.all([
          a.claimAlerts(['webhook', 'slack'], 3, 60_000),
          b.claimAlerts(['webhook', 'slack'], 3, 60_000),
        ]);
        for (const [who, claimed] of [
          ['a', fromA],
          ['b', fromB],
        ] as const) {
          counts[who] += claimed.length;
          for (const alert of claimed) {
            expect(seen.get(alert.id), `alert ${alert.id} claimed twice`).toBeUndefined();
            seen.set(alert.id, who);
          }
        }
        if (fromA.length === 0 && fromB.length === 0) break;
      }
      expect(seen.size).toBe(80);
      // Both did some of the work: skip locked, not one waiting for the other.
      expect(counts.a).toBeGreaterThan(0);
      expect(counts.b).toBeGreaterThan(0);
    } finally {
      await closeStore(a);
      await closeStore(b);
    }
  });
});
