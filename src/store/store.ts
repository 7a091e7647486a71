import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { redactTarget } from '../core/redact.js';
import type { ScanReport } from '../core/scan-report.js';
import type { PeopleKeys } from '../core/sealed-text.js';
import { derivePeopleKeys, loadMasterKey } from './key-file.js';
import { LockFile } from './lock-file.js';
import { migrate } from './migrate.js';
import { openPgliteDatabase } from './pglite-database.js';
import { openPostgresDatabase } from './postgres-database.js';
import type { SqlClient, SqlDatabase } from './sql-client.js';
import type {
  AlertRow,
  ExposureWindowRow,
  ScanRunRow,
  WatchEventRow,
  WatchedStoreRow,
} from './store-rows.js';

/** Where the state lives when neither `--store` nor LEAKWATCH_STORE says otherwise. */
export const defaultStorePath = '.leakwatch';

export type StoreLocation = { kind: 'pglite'; dir: string } | { kind: 'postgres'; url: string };

/** `--store`: a PostgreSQL URL, or a directory for the embedded PGlite store. */
export function parseStoreLocation(spec: string | undefined): StoreLocation {
  const text = spec ?? process.env['LEAKWATCH_STORE'] ?? defaultStorePath;
  if (/^postgres(ql)?:\/\//i.test(text)) {
    try {
      new URL(text);
    } catch {
      throw new UsageError(
        `invalid --store URL "${redactTarget(text)}": expected postgres://user@host:port/db`,
      );
    }
    return { kind: 'postgres', url: text };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new UsageError(
      `unsupported --store "${redactTarget(text)}": give a directory (embedded store) or a postgres:// URL`,
    );
  }
  if (text.trim() === '') throw new UsageError('empty --store: give a directory or a postgres:// URL');
  return { kind: 'pglite', dir: resolve(text) };
}

export function describeStoreLocation(location: StoreLocation): string {
  return location.kind === 'pglite' ? location.dir : redactTarget(location.url);
}

const storeColumns = `id, name, target, probe_target as "probeTarget", protocol, owner, tags,
  interval_ms as "intervalMs", active, state, state_since as "stateSince", detail,
  last_probe_at as "lastProbeAt", last_success_at as "lastSuccessAt",
  last_protected_at as "lastProtectedAt", last_open_at as "lastOpenAt", probe_ms as "probeMs",
  server, records, classified_at as "classifiedAt", exposure`;
const windowColumns = `id, store_id as "storeId", opened_at as "openedAt", opened_after as "openedAfter",
  last_open_at as "lastOpenAt", closed_at as "closedAt"`;
const eventColumns = `id, store_id as "storeId", at, kind, from_state as "fromState", to_state as "toState",
  window_id as "windowId", payload`;

export interface WatchedStoreDefinition {
  name: string;
  /** As given (may hold credentials); the display form is derived here. */
  target: string;
  protocol: string;
  owner?: string;
  tags?: readonly string[];
  intervalMs: number;
}

/** Everything the watcher writes after one probe, applied atomically by `Store.recordObservation`. */
export interface ObservationWrite {
  store: Partial<Omit<WatchedStoreRow, 'id' | 'name' | 'target' | 'probeTarget' | 'protocol'>>;
  /** Open a new exposure window (the store was found open and none is open). */
  openWindow?: { openedAt: Date; openedAfter: Date | null };
  /** Extend the open window's last open probe, or close it. */
  updateWindow?: { lastOpenAt?: Date; closedAt?: Date };
  events: {
    kind: string;
    at: Date;
    fromState: string;
    toState: string;
    /** Builds the event's payload once its id and window are known (the id is the alert's identity). */
    payload: (id: number, window: ExposureWindowRow | undefined) => object;
    alert: boolean;
  }[];
}

/** A probe that changed nothing but its time, written later in a batch (`recordHeartbeats`). */
export interface Heartbeat {
  id: number;
  at: Date;
  probeMs: number | null;
  detail: string;
  lastSuccessAt: Date | null;
  lastProtectedAt: Date | null;
  records: number | null;
  server: { product: string; version?: string } | null;
}

/**
 * The state store: scan runs, watched stores, their timeline and alert outbox, in PGlite (default,
 * `./.leakwatch/`) or PostgreSQL (`--store postgres://…`), one schema for both.
 */
export class Store {
  private constructor(
    readonly db: SqlDatabase,
    readonly location: StoreLocation,
    private readonly lock: LockFile | undefined,
  ) {}

  /**
   * The keys that seal affected people's contacts: from LEAKWATCH_SECRET_KEY, or a key file beside
   * an embedded store (or LEAKWATCH_KEY_FILE, default ./.leakwatch/secret.key, for PostgreSQL),
   * never inside the database.
   */
  peopleKeys(): PeopleKeys {
    const keyFile =
      process.env['LEAKWATCH_KEY_FILE'] ??
      (this.location.kind === 'pglite'
        ? join(this.location.dir, 'secret.key')
        : resolve(defaultStorePath, 'secret.key'));
    return derivePeopleKeys(loadMasterKey(keyFile));
  }

  get displayLocation(): string {
    return describeStoreLocation(this.location);
  }

  /** Opens (creating and migrating if needed) the store; `command` names the lock holder. */
  static async open(location: StoreLocation, command: string): Promise<Store> {
    if (location.kind === 'postgres') {
      let db: SqlDatabase;
      try {
        db = await openPostgresDatabase(location.url);
      } catch (error) {
        throw new UsageError(
          `cannot open the store ${describeStoreLocation(location)}: ${(error as Error).message}`,
        );
      }
      try {
        await migrate(db);
      } catch (error) {
        await db.close();
        throw error;
      }
      return new Store(db, location, undefined);
    }
    mkdirSync(location.dir, { recursive: true, mode: 0o700 });
    const lock = LockFile.acquire(join(location.dir, 'leakwatch.lock'), command);
    try {
      const db = await openPgliteDatabase(join(location.dir, 'pgdata'));
      try {
        await migrate(db);
      } catch (error) {
        await db.close();
        throw error;
      }
      return new Store(db, location, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** Lets other commands reach this process's status API while it holds an embedded store. */
  advertiseApi(api: { url: string; token: string }): void {
    this.lock?.advertise(api);
  }

  async close(): Promise<void> {
    try {
      await this.db.close();
    } finally {
      this.lock?.release();
    }
  }

  // --- scan runs ---------------------------------------------------------------------------------

  async recordScan(report: ScanReport): Promise<number> {
    return this.db.transaction(async (tx) => {
      const [run] = await tx.query<{ id: number }>(
        `insert into scan_run (started_at, finished_at, tool_version, report)
         values ($1, $2, $3, $4::jsonb) returning id`,
        [report.startedAt, report.finishedAt, report.tool.version, JSON.stringify(report)],
      );
      if (run === undefined) throw new Error('insert into scan_run returned no row');
      let position = 0;
      for (const target of report.targets) {
        await tx.query(
          `insert into scan_target (run_id, position, target, protocol, status, severity, fingerprint, records, subjects)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [
            run.id,
            position++,
            target.target,
            target.protocol,
            target.status,
            target.severity,
            target.fingerprint,
            target.size?.records ?? null,
            target.subjects.total,
          ],
        );
      }
      return run.id;
    });
  }

  async listScans(limit = 20): Promise<ScanRunRow[]> {
    return this.db.query<ScanRunRow>(
      `select r.id, r.started_at as "startedAt", r.finished_at as "finishedAt",
              count(t.position)::int as targets, count(t.position) filter (where t.status = 'open')::int as open
       from scan_run r left join scan_target t on t.run_id = r.id
       group by r.id order by r.id desc limit $1`,
      [limit],
    );
  }

  // --- watched stores ----------------------------------------------------------------------------

  /**
   * Registers (or updates) the stores to watch and returns their rows. A store keeps its id,
   * state and timeline across restarts as long as its name stays the same.
   */
  async upsertWatchedStores(definitions: readonly WatchedStoreDefinition[]): Promise<WatchedStoreRow[]> {
    const rows: WatchedStoreRow[] = [];
    for (const definition of definitions) {
      const [row] = await this.db.query<WatchedStoreRow>(
        `insert into watched_store (name, target, probe_target, protocol, owner, tags, interval_ms)
         values ($1, $2, $3, $4, $5, $6::jsonb, $7)
         on conflict (name) do update set target = excluded.target, probe_target = excluded.probe_target,
           protocol = excluded.protocol, owner = excluded.owner, tags = excluded.tags,
           interval_ms = excluded.interval_ms, active = true
         returning ${storeColumns}`,
        [
          definition.name,
          redactTarget(definition.target),
          definition.target,
          definition.protocol,
          definition.owner ?? null,
          JSON.stringify(definition.tags ?? []),
          definition.intervalMs,
        ],
      );
      if (row !== undefined) rows.push(row);
    }
    return rows;
  }

  /** Marks exactly these stores as watched (an embedded store's one watcher decides). */
  async setActiveStores(ids: readonly number[]): Promise<void> {
    await this.db.query('update watched_store set active = (id = any($1::bigint[]))', [ids]);
  }

  async listWatchedStores(options: { activeOnly?: boolean } = {}): Promise<WatchedStoreRow[]> {
    return this.db.query<WatchedStoreRow>(
      `select ${storeColumns} from watched_store ${options.activeOnly === true ? 'where active' : ''} order by name`,
    );
  }

  async getWatchedStore(id: number): Promise<WatchedStoreRow | undefined> {
    const [row] = await this.db.query<WatchedStoreRow>(
      `select ${storeColumns} from watched_store where id = $1`,
      [id],
    );
    return row;
  }

  /** By name, or by target (display form, or as given). */
  async findWatchedStore(nameOrTarget: string): Promise<WatchedStoreRow | undefined> {
    const [row] = await this.db.query<WatchedStoreRow>(
      `select ${storeColumns} from watched_store
       where name = $1 or target = $2 or probe_target = $1 order by (name = $1) desc, id limit 1`,
      [nameOrTarget, redactTarget(nameOrTarget)],
    );
    return row;
  }

  async openWindow(storeId: number, client: SqlClient = this.db): Promise<ExposureWindowRow | undefined> {
    const [row] = await client.query<ExposureWindowRow>(
      `select ${windowColumns} from exposure_window where store_id = $1 and closed_at is null`,
      [storeId],
    );
    return row;
  }

  async listWindows(storeId: number): Promise<ExposureWindowRow[]> {
    return this.db.query<ExposureWindowRow>(
      `select ${windowColumns} from exposure_window where store_id = $1 order by opened_at`,
      [storeId],
    );
  }

  async countOpenWindows(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      'select count(*)::int as n from exposure_window w join watched_store s on s.id = w.store_id where w.closed_at is null and s.active',
    );
    return row?.n ?? 0;
  }

  async listEvents(storeId: number, limit = 1000): Promise<WatchEventRow[]> {
    return this.db.query<WatchEventRow>(
      `select * from (select ${eventColumns} from watch_event where store_id = $1 order by id desc limit $2) e order by id`,
      [storeId, limit],
    );
  }

  /**
   * Applies one probe's outcome atomically: the store row is locked, `decide` sees it as committed
   * by whichever process probed last, and the state, window, events and their alert rows are
   * written together, so a crash leaves either all of them or none (no lost or doubled transition).
   */
  async recordObservation(
    storeId: number,
    alertChannels: readonly string[],
    decide: (current: WatchedStoreRow, window: ExposureWindowRow | undefined) => ObservationWrite,
  ): Promise<WatchEventRow[]> {
    return this.db.transaction(async (tx) => {
      const [current] = await tx.query<WatchedStoreRow>(
        `select ${storeColumns} from watched_store where id = $1 for update`,
        [storeId],
      );
      if (current === undefined) return [];
      let window = await this.openWindow(storeId, tx);
      const write = decide(current, window);
      if (write.openWindow !== undefined && window === undefined) {
        const [opened] = await tx.query<ExposureWindowRow>(
          `insert into exposure_window (store_id, opened_at, opened_after, last_open_at)
           values ($1, $2, $3, $2) returning ${windowColumns}`,
          [storeId, write.openWindow.openedAt, write.openWindow.openedAfter],
        );
        window = opened;
      } else if (write.updateWindow !== undefined && window !== undefined) {
        const [updated] = await tx.query<ExposureWindowRow>(
          `update exposure_window set last_open_at = coalesce($2, last_open_at), closed_at = $3
           where id = $1 returning ${windowColumns}`,
          [window.id, write.updateWindow.lastOpenAt ?? null, write.updateWindow.closedAt ?? null],
        );
        window = updated;
      }
      const sets = Object.entries(write.store);
      if (sets.length > 0) {
        const columns = sets.map(([key], i) => {
          const column = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
          return jsonColumns.has(column) ? `${column} = $${i + 2}::jsonb` : `${column} = $${i + 2}`;
        });
        await tx.query(`update watched_store set ${columns.join(', ')} where id = $1`, [
          storeId,
          // null stays SQL NULL (not the jsonb value `null`), as in a freshly inserted row.
          ...sets.map(([key, value]) =>
            jsonColumns.has(key) && value != null ? JSON.stringify(value) : (value ?? null),
          ),
        ]);
      }
      const events: WatchEventRow[] = [];
      for (const event of write.events) {
        const [row] = await tx.query<WatchEventRow>(
          `insert into watch_event (store_id, at, kind, from_state, to_state, window_id, payload)
           values ($1, $2, $3, $4, $5, $6, '{}'::jsonb) returning ${eventColumns}`,
          [storeId, event.at, event.kind, event.fromState, event.toState, window?.id ?? null],
        );
        if (row === undefined) continue;
        const payload = event.payload(row.id, window);
        await tx.query('update watch_event set payload = $2::jsonb where id = $1', [
          row.id,
          JSON.stringify(payload),
        ]);
        row.payload = payload;
        events.push(row);
        if (event.alert) {
          for (const channel of alertChannels) {
            await tx.query(
              'insert into alert (event_id, channel) values ($1, $2) on conflict (event_id, channel) do nothing',
              [row.id, channel],
            );
          }
        }
      }
      return events;
    });
  }

  /**
   * Writes the probes that changed nothing but their time (most of them) in one statement: the
   * watcher batches them, since a row per probe per store would cost more than the probe itself.
   */
  async recordHeartbeats(beats: readonly Heartbeat[]): Promise<void> {
    if (beats.length === 0) return;
    await this.db.query(
      `update watched_store s set last_probe_at = v.at, probe_ms = v.ms, detail = v.detail,
         last_success_at = coalesce(v.success, s.last_success_at),
         last_protected_at = coalesce(v.protected, s.last_protected_at),
         records = coalesce(v.records, s.records),
         server = coalesce(v.server::jsonb, s.server)
       from unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::text[], $5::timestamptz[], $6::timestamptz[],
                   $7::bigint[], $8::text[]) as v(id, at, ms, detail, success, protected, records, server)
       where s.id = v.id and (s.last_probe_at is null or s.last_probe_at <= v.at)`,
      [
        beats.map((b) => b.id),
        beats.map((b) => b.at),
        beats.map((b) => b.probeMs),
        beats.map((b) => b.detail),
        beats.map((b) => b.lastSuccessAt),
        beats.map((b) => b.lastProtectedAt),
        beats.map((b) => b.records),
        beats.map((b) => (b.server === null ? null : JSON.stringify(b.server))),
      ],
    );
  }

  // --- alert outbox ------------------------------------------------------------------------------

  /**
   * Claims up to `limit` due alerts of the given channels for `leaseMs`: a claimed alert is not
   * handed to another dispatcher until its lease runs out (its holder died), so it is sent by one
   * process at a time; the receiver deduplicates the rare resend after a crash by `webhook-id`.
   */
  async claimAlerts(channels: readonly string[], limit: number, leaseMs: number): Promise<AlertRow[]> {
    if (channels.length === 0) return [];
    const skipLocked = this.db.kind === 'postgres' ? 'for update skip locked' : '';
    return this.db.transaction(async (tx) =>
      tx.query<AlertRow>(
        `with due as (
           select id from alert
           where status = 'pending' and channel = any($1::text[]) and next_attempt_at <= now()
             and (lease_until is null or lease_until < now())
           order by id limit $2 ${skipLocked})
         update alert a set lease_until = now() + ($3::int * interval '1 millisecond')
         from due, watch_event e
         where a.id = due.id and e.id = a.event_id
         returning a.id, a.event_id as "eventId", a.channel, a.status, a.attempts,
           a.next_attempt_at as "nextAttemptAt", a.last_error as "lastError", a.sent_at as "sentAt", e.payload`,
        [channels, limit, leaseMs],
      ),
    );
  }

  /**
   * Hands alerts leased by a dispatcher that died (kill -9 mid-send) back to the outbox at once, not
   * after their lease. Only for an embedded store: its lock file admits one process, so every lease
   * found when it opens belonged to a process that is gone. Returns how many were released.
   */
  async releaseDeadLeases(): Promise<number> {
    if (this.location.kind !== 'pglite') return 0;
    const rows = await this.db.query<{ id: number }>(
      `update alert set lease_until = null where status = 'pending' and lease_until is not null returning id`,
    );
    return rows.length;
  }

  async markAlertSent(id: number): Promise<void> {
    await this.db.query(
      `update alert set status = 'sent', sent_at = now(), attempts = attempts + 1, lease_until = null where id = $1`,
      [id],
    );
  }

  async markAlertRetry(id: number, error: string, nextAttemptAt: Date): Promise<void> {
    await this.db.query(
      `update alert set attempts = attempts + 1, last_error = $2, next_attempt_at = $3, lease_until = null where id = $1`,
      [id, error, nextAttemptAt],
    );
  }

  async markAlertFailed(id: number, error: string): Promise<void> {
    await this.db.query(
      `update alert set status = 'failed', attempts = attempts + 1, last_error = $2, lease_until = null where id = $1`,
      [id, error],
    );
  }

  async listAlerts(eventIds: readonly number[]): Promise<AlertRow[]> {
    if (eventIds.length === 0) return [];
    return this.db.query<AlertRow>(
      `select a.id, a.event_id as "eventId", a.channel, a.status, a.attempts, a.next_attempt_at as "nextAttemptAt",
         a.last_error as "lastError", a.sent_at as "sentAt", null as payload
       from alert a where a.event_id = any($1::bigint[]) order by a.id`,
      [eventIds],
    );
  }

  /** Alerts of channels no longer configured stay pending forever otherwise. */
  async failAlertsOfOtherChannels(channels: readonly string[]): Promise<number> {
    const rows = await this.db.query<{ id: number }>(
      `update alert set status = 'failed', last_error = 'channel no longer configured'
       where status = 'pending' and not (channel = any($1::text[])) returning id`,
      [channels],
    );
    return rows.length;
  }
}

const jsonColumns = new Set(['server', 'exposure', 'tags']);
