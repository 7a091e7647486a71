import type { Category } from '../core/category.js';
import type { Store } from '../store/store.js';

/**
 * The notification outbox (table `notification`, migration 2): one row per affected person with a
 * contact, claimed with a lease, marked sent or failed. Every state change is conditional on the
 * row still being pending and leased by the caller, so a worker whose lease ran out cannot undo
 * what the worker that took over wrote.
 */

export type NotificationStatus = 'pending' | 'sent' | 'failed' | 'cancelled';

/** A claimed row, with what sending it needs: the sealed contact is opened in memory only. */
export interface ClaimedNotification {
  id: number;
  personId: number;
  attempts: number;
  messageId: string;
  /** Sealed (AES-256-GCM); null when purged since the row was written. */
  contact: string | null;
  categories: Category[];
}

export interface OutboxCounts {
  pending: number;
  /** Pending rows waiting for a retry (at least one attempt made). */
  retrying: number;
  sent: number;
  failed: number;
  cancelled: number;
}

/** `<inc-7.p123@example.com>`: the same person in the same incident always gets the same id. */
export function notificationMessageIdSql(domainParam: string): string {
  return `'<inc-' || p.incident_id || '.p' || p.id || '@' || ${domainParam} || '>'`;
}

export function notificationMessageId(incidentId: number, personId: number, domain: string): string {
  return `<inc-${incidentId}.p${personId}@${domain}>`;
}

/**
 * One row per affected person with a contact, in a single INSERT … SELECT: idempotent (a person
 * already in the outbox keeps their row, status and Message-ID), and as fast as the database can
 * write. Returns how many rows were new.
 */
export async function prepareOutbox(store: Store, incidentId: number, domain: string): Promise<number> {
  const rows = await store.db.transaction(async (tx) => {
    // Two runs at once (PostgreSQL, two terminals) queue here, so the anti-join below sees every
    // row the other wrote and no ON CONFLICT is needed: its speculative insertion was a third of
    // the time of a 2.4-million-row outbox.
    await tx.query('select id from incident where id = $1 for update', [incidentId]);
    // The two foreign keys cost a lookup per row, half the time of 2.4 million rows on PGlite. Every
    // row is selected from affected_person (and so its incident) in this very statement, and the
    // embedded store has one connection, so no reference can dangle: the checks are skipped there
    // (PGlite runs as superuser). PostgreSQL keeps them: other sessions may delete meanwhile.
    if (store.db.kind === 'pglite') await tx.query('set local session_replication_role = replica');
    const [existing] = await tx.query<{ any: boolean }>(
      'select exists (select 1 from notification where incident_id = $1) as any',
      [incidentId],
    );
    // Rows come in the order people were written (no sort: it spilled to disk at this size).
    return tx.query<{ n: number }>(
      `with added as (
       insert into notification (incident_id, person_id, message_id)
       select p.incident_id, p.id, ${notificationMessageIdSql('$2::text')}
       from affected_person p
       where p.incident_id = $1 and p.contact is not null${
         existing?.any === true
           ? `
         and not exists (select 1 from notification n where n.incident_id = $1 and n.person_id = p.id)`
           : ''
       }
       returning 1)
     select count(*)::int as n from added`,
      [incidentId, domain],
    );
  });
  // No autovacuum on PGlite: fresh statistics keep the claims on the partial index.
  if (store.db.kind === 'pglite' && (rows[0]?.n ?? 0) > 0) await store.db.exec('analyze notification');
  return rows[0]?.n ?? 0;
}

export async function countOutbox(store: Store, incidentId: number): Promise<OutboxCounts> {
  const rows = await store.db.query<{ status: NotificationStatus; retrying: boolean; n: number }>(
    `select status, (status = 'pending' and attempts > 0) as retrying, count(*)::int as n
     from notification where incident_id = $1 group by 1, 2`,
    [incidentId],
  );
  const counts: OutboxCounts = { pending: 0, retrying: 0, sent: 0, failed: 0, cancelled: 0 };
  for (const row of rows) {
    counts[row.status] += row.n;
    if (row.retrying) counts.retrying += row.n;
  }
  return counts;
}

/** Leases of a process that died hold nothing: hand them back at once (embedded store only, see below). */
export async function releaseDeadNotificationLeases(store: Store, incidentId: number): Promise<number> {
  // The embedded store's lock file admits one process, so every lease found on opening it is dead.
  // On PostgreSQL other workers may be alive: their leases expire instead.
  if (store.location.kind !== 'pglite') return 0;
  const rows = await store.db.query<{ n: number }>(
    `with released as (
       update notification set lease_until = null, lease_owner = null
       where incident_id = $1 and status = 'pending' and lease_until is not null returning 1)
     select count(*)::int as n from released`,
    [incidentId],
  );
  return rows[0]?.n ?? 0;
}

export interface ClaimOptions {
  incidentId: number;
  owner: string;
  limit: number;
  leaseMs: number;
  /** Only rows with an id at most this (a canary's first N). */
  maxId?: number;
}

/** Claims due pending rows in id order; `for update skip locked` lets workers on PostgreSQL share. */
export async function claimNotifications(
  store: Store,
  options: ClaimOptions,
): Promise<ClaimedNotification[]> {
  const skipLocked = store.db.kind === 'postgres' ? 'for update skip locked' : '';
  return store.db.transaction((tx) =>
    tx.query<ClaimedNotification>(
      `with due as (
         select id from notification
         where incident_id = $1 and status = 'pending' and next_attempt_at <= now()
           and (lease_until is null or lease_until < now()) and id <= $5
         order by id limit $2 ${skipLocked})
       update notification n
       set lease_until = now() + ($3::int * interval '1 millisecond'), lease_owner = $4
       from due, affected_person p
       where n.id = due.id and p.id = n.person_id
       returning n.id, n.person_id as "personId", n.attempts, n.message_id as "messageId",
         p.contact, p.categories`,
      [
        options.incidentId,
        options.limit,
        options.leaseMs,
        options.owner,
        options.maxId ?? Number.MAX_SAFE_INTEGER,
      ],
    ),
  );
}

/** Marks rows sent; returns the ids this owner still held (a lost lease marks nothing). */
export async function markNotificationsSent(
  store: Store,
  ids: readonly number[],
  owner: string,
): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await store.db.query<{ id: number }>(
    `update notification set status = 'sent', sent_at = now(), attempts = attempts + 1,
       lease_until = null, lease_owner = null, last_error = null
     where id = any($1::bigint[]) and status = 'pending' and lease_owner = $2 returning id`,
    [ids, owner],
  );
  return rows.map((row) => row.id);
}

export async function markNotificationRetry(
  store: Store,
  id: number,
  owner: string,
  error: string,
  nextAttemptAt: Date,
): Promise<void> {
  await store.db.query(
    `update notification set attempts = attempts + 1, last_error = $3, next_attempt_at = $4,
       lease_until = null, lease_owner = null
     where id = $1 and status = 'pending' and lease_owner = $2`,
    [id, owner, error, nextAttemptAt],
  );
}

export async function markNotificationFailed(
  store: Store,
  id: number,
  owner: string,
  error: string,
): Promise<void> {
  await store.db.query(
    `update notification set status = 'failed', attempts = attempts + 1, last_error = $3,
       lease_until = null, lease_owner = null
     where id = $1 and status = 'pending' and lease_owner = $2`,
    [id, owner, error],
  );
}

/** Hands rows this owner holds back to the outbox (an interrupted run), untouched otherwise. */
export async function releaseNotifications(store: Store, owner: string): Promise<void> {
  await store.db.query(
    `update notification set lease_until = null, lease_owner = null where status = 'pending' and lease_owner = $1`,
    [owner],
  );
}

/** The earliest time a pending row becomes due again, or undefined when none is pending. */
export async function nextDue(store: Store, incidentId: number, maxId?: number): Promise<Date | undefined> {
  const [row] = await store.db.query<{ at: Date | null }>(
    `select min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) as at
     from notification where incident_id = $1 and status = 'pending' and id <= $2`,
    [incidentId, maxId ?? Number.MAX_SAFE_INTEGER],
  );
  return row?.at ?? undefined;
}

/** The first `n` pending rows' last id: what a canary run may touch. */
export async function canaryLimit(store: Store, incidentId: number, n: number): Promise<number | undefined> {
  const [row] = await store.db.query<{ id: number | null }>(
    `select max(id) as id from (select id from notification
       where incident_id = $1 and status = 'pending' order by id limit $2) first_rows`,
    [incidentId, n],
  );
  return row?.id ?? undefined;
}

/** Person ids whose notice could not be delivered: who needs a substitute notice. */
export async function failedPersonIds(store: Store, incidentId: number): Promise<number[]> {
  const rows = await store.db.query<{ personId: number }>(
    `select person_id as "personId" from notification where incident_id = $1 and status = 'failed' order by person_id`,
    [incidentId],
  );
  return rows.map((row) => row.personId);
}
