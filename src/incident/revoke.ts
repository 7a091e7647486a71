/**
 * Revocation hooks (issue 5 item 5): the incident's affected people, in deterministic batches, are
 * POSTed to the application that owns their accounts, signed as Standard Webhooks, so it can log
 * them out, rotate tokens, unlink integrations or force a password reset.
 *
 * Delivery is at least once, made idempotent by the receiver: every batch has a stable
 * `webhook-id` (`lw-rev-<incident>-<action>-<batch>`), the same on every retry and every rerun.
 * A batch is claimed with a lease and marked sent after a 2xx; a crash between that 2xx and the
 * store's update leaves the batch pending, and the next run sends it again with the same
 * webhook-id, which the application must drop as a duplicate. Sent batches are never resent.
 *
 * The identifiers sent are the decrypted strongest identifiers of the people (user id where the
 * data had one, else email, …): they go to the hook only, never to a log, the terminal or a
 * receipt (receiver answers are scrubbed of them before they are stored).
 */
import { isIP } from 'node:net';
import { UsageError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import { decryptText } from '../core/sealed-text.js';
import { sleep } from '../core/sleep.js';
import type { Store } from '../store/store.js';
import { DeliveryError } from '../watch/alert-channel.js';
import { backoffDelay } from '../watch/alert-dispatcher.js';
import { exchangeJson, isRetryableStatus, parseHttpUrl, redactUrl } from '../watch/post-json.js';
import { decodeWebhookSecret, signWebhook } from '../watch/webhook-channel.js';
import type { IncidentRecord } from './incident.js';
import { appendTimeline } from './incident-store.js';

export const revocationActions = [
  'sessions.revoke',
  'tokens.rotate',
  'integrations.unlink',
  'password.reset_required',
] as const;
export type RevocationAction = (typeof revocationActions)[number];

export type RevocationStatus = 'pending' | 'sent' | 'failed';

/** What the receiver answered to one attempt; scrubbed of the batch's identifiers, capped. */
export interface RevocationReceipt {
  webhookId: string;
  status: number;
  /** The answer's JSON `id`, when it had one (the application's own reference). */
  id?: string;
  /** The answer's body, sanitised and capped to 1 KiB. */
  body?: string;
  at: string;
}

/** One planned batch as the receipt log shows it: ids of rows, counts and answers, never identifiers. */
export interface RevocationBatch {
  action: RevocationAction;
  batch: number;
  webhookId: string;
  firstPersonId: number;
  lastPersonId: number;
  size: number;
  status: RevocationStatus;
  attempts: number;
  nextAttemptAt: string;
  lastError?: string;
  receipt?: RevocationReceipt;
  sentAt?: string;
}

export interface RevocationPlan {
  /** Batches added by this call (0 when the plan already covered every person). */
  planned: number;
  batches: number;
  subjects: number;
  /** People whose records named no identifier (identifier kind `none`): nothing to revoke. */
  unidentified: number;
}

export interface RevocationProgress {
  action: RevocationAction;
  /** Batches settled (sent or failed), this run and earlier ones. */
  done: number;
  total: number;
}

export interface RevocationOptions {
  action: RevocationAction;
  /** The application's hook: https, or http on a loopback address. */
  url: string;
  /** `whsec_<base64>` (or the bare base64 key). */
  secret: string;
  /** Subjects per batch, for batches not yet planned; default 500. */
  batchSize?: number;
  /** At most this many batches started per second; default unlimited. */
  ratePerSecond?: number;
  /** Attempts per batch before it is marked failed; default 8. */
  maxAttempts?: number;
  /** First retry delay, doubled per attempt (±20 %) up to `maxBackoffMs`; default 1 s. */
  backoffMs?: number;
  /** Also the cap on a receiver's Retry-After; default 5 min. */
  maxBackoffMs?: number;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  /** A claimed batch returns to the queue if its sender died; longer than any request takes. */
  leaseMs?: number;
  /** Stops after the request in flight (Ctrl-C). */
  signal?: AbortSignal;
  onProgress?: (progress: RevocationProgress) => void;
  /** Human notes for stderr (retries, resumed batches); they never hold an identifier. */
  onNote?: (text: string) => void;
}

export interface RevocationTally {
  incident: string;
  action: RevocationAction;
  hook: string;
  batches: number;
  subjects: number;
  unidentified: number;
  sent: number;
  failed: number;
  pending: number;
  /** Subjects in batches the application acknowledged. */
  subjectsAcknowledged: number;
  thisRun: {
    sent: number;
    failed: number;
    retries: number;
    /** Batches in flight when an earlier run died, sent again with the same webhook-id. */
    resent: number[];
  };
}

export const revocationDefaults = {
  batchSize: 500,
  maxAttempts: 8,
  backoffMs: 1000,
  maxBackoffMs: 5 * 60_000,
  timeoutMs: 30_000,
  leaseMs: 2 * 60_000,
} as const;

/** The largest batch: a body of 10,000 identifiers stays around 1 MB, which receivers accept. */
export const maxBatchSize = 10_000;
const maxReceiptBytes = 1024;
/** Waiting for a batch leased by another process or scheduled later, the loop looks again this often. */
const maxIdleMs = 5000;
/** Identifiers decrypted between two yields to the event loop. */
const decryptSlice = 1000;

export function isRevocationAction(text: string): text is RevocationAction {
  return (revocationActions as readonly string[]).includes(text);
}

/** Stable per (incident, action, batch): the application deduplicates on it. */
export function revocationWebhookId(incidentId: number, action: RevocationAction, batch: number): string {
  return `lw-rev-${incidentId}-${action}-${batch}`;
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * The hook URL: identifiers of real people travel in the body, so plain http is accepted only to
 * a loopback address (an application's local sidecar); anything else must be https.
 */
export function parseHookUrl(url: string): URL {
  const parsed = parseHttpUrl(url, 'revocation hook');
  if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
    throw new UsageError(
      `revocation hook ${redactUrl(parsed)} must use https: the batches carry identifiers of real people`,
    );
  }
  return parsed;
}

/**
 * Plans the batches of one action: the people with an identifier, ordered by their row id, cut
 * into batches of `batchSize`, written idempotently. People already covered keep their batch; only
 * people added after the last planned batch (none, unless the incident's people grew) get new ones.
 */
export async function planRevocation(
  store: Store,
  incidentId: number,
  action: RevocationAction,
  batchSize: number = revocationDefaults.batchSize,
): Promise<RevocationPlan> {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > maxBatchSize) {
    throw new UsageError(`batch size must be an integer from 1 to ${maxBatchSize}, not ${batchSize}`);
  }
  return store.db.transaction(async (tx) => {
    const [last] = await tx.query<{ batch: number | null; person: number | null }>(
      `select max(batch_no) as batch, max(last_person_id) as person
       from revocation_batch where incident_id = $1 and action = $2`,
      [incidentId, action],
    );
    const inserted = await tx.query<{ id: number }>(
      `insert into revocation_batch (incident_id, action, batch_no, first_person_id, last_person_id, size)
       select $1, $2, $3::int + ((rn - 1) / $4::int)::int + 1, min(id), max(id), count(*)
       from (select id, row_number() over (order by id) as rn from affected_person
             where incident_id = $1 and identifier is not null and id > $5::bigint) people
       group by (rn - 1) / $4::int
       on conflict (incident_id, action, batch_no) do nothing
       returning id`,
      [incidentId, action, last?.batch ?? 0, batchSize, last?.person ?? 0],
    );
    const [counts] = await tx.query<{ batches: number; subjects: number | null }>(
      `select count(*)::int as batches, sum(size)::int as subjects
       from revocation_batch where incident_id = $1 and action = $2`,
      [incidentId, action],
    );
    const [none] = await tx.query<{ n: number }>(
      'select count(*)::int as n from affected_person where incident_id = $1 and identifier is null',
      [incidentId],
    );
    return {
      planned: inserted.length,
      batches: counts?.batches ?? 0,
      subjects: counts?.subjects ?? 0,
      unidentified: none?.n ?? 0,
    };
  });
}

interface BatchRow {
  action: RevocationAction;
  batchNo: number;
  firstPersonId: number;
  lastPersonId: number;
  size: number;
  status: RevocationStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  receipt: RevocationReceipt | null;
  sentAt: Date | null;
}

/** The receipt log: every planned batch of the incident (of one action, if named), in order. */
export async function listRevocationBatches(
  store: Store,
  incidentId: number,
  action?: RevocationAction,
): Promise<RevocationBatch[]> {
  const rows = await store.db.query<BatchRow>(
    `select action, batch_no as "batchNo", first_person_id as "firstPersonId", last_person_id as "lastPersonId",
       size, status, attempts, next_attempt_at as "nextAttemptAt", last_error as "lastError", receipt,
       sent_at as "sentAt"
     from revocation_batch where incident_id = $1 and ($2::text is null or action = $2)
     order by action, batch_no`,
    [incidentId, action ?? null],
  );
  return rows.map((r) => ({
    action: r.action,
    batch: r.batchNo,
    webhookId: revocationWebhookId(incidentId, r.action, r.batchNo),
    firstPersonId: r.firstPersonId,
    lastPersonId: r.lastPersonId,
    size: r.size,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.nextAttemptAt.toISOString(),
    ...(r.lastError === null ? {} : { lastError: r.lastError }),
    ...(r.receipt === null ? {} : { receipt: r.receipt }),
    ...(r.sentAt === null ? {} : { sentAt: r.sentAt.toISOString() }),
  }));
}

/**
 * Delay a `Retry-After` header asks for (delta seconds or an HTTP date), or undefined when absent
 * or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replaces every identifier of the batch (case-insensitively) in text a receiver sent back. */
function scrub(text: string, identifiers: readonly string[]): string {
  let out = text;
  // Lowered once per replacement, not per identifier: a batch holds up to 10,000 of them.
  let lower = out.toLowerCase();
  for (const identifier of identifiers) {
    if (identifier === '') continue;
    if (lower.includes(identifier.toLowerCase())) {
      out = out.replace(new RegExp(escapeRegExp(identifier), 'gi'), '[subject]');
      lower = out.toLowerCase();
    }
  }
  return out;
}

function capBytes(text: string, bytes: number): string {
  let out = text;
  while (Buffer.byteLength(out, 'utf8') > bytes) out = out.slice(0, Math.max(0, out.length - 16));
  return out;
}

function answerId(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const id = (parsed as Record<string, unknown>)['id'];
    return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
  } catch {
    return undefined;
  }
}

function makeReceipt(
  webhookId: string,
  status: number,
  raw: string,
  identifiers: string[],
): RevocationReceipt {
  // Cut first so scrubbing stays cheap on a 64 KiB answer; the cut stays far beyond what is kept.
  const body = capBytes(
    sanitizeText(scrub(raw.slice(0, 4 * maxReceiptBytes), identifiers), 4096),
    maxReceiptBytes,
  );
  const id = answerId(raw);
  return {
    webhookId,
    status,
    ...(id === undefined ? {} : { id: sanitizeText(scrub(id, identifiers), 200) }),
    ...(body === '' ? {} : { body }),
    at: new Date().toISOString(),
  };
}

interface ClaimedBatch {
  id: number;
  batchNo: number;
  firstPersonId: number;
  lastPersonId: number;
  attempts: number;
  /** It was claimed before and never settled: the earlier sender died mid-request. */
  resumed: boolean;
}

async function claimBatch(
  store: Store,
  incidentId: number,
  action: RevocationAction,
  leaseMs: number,
): Promise<ClaimedBatch | undefined> {
  const skipLocked = store.db.kind === 'postgres' ? 'for update skip locked' : '';
  const [row] = await store.db.transaction(async (tx) =>
    tx.query<ClaimedBatch>(
      `with due as (
         select id, lease_until is not null as resumed from revocation_batch
         where incident_id = $1 and action = $2 and status = 'pending' and next_attempt_at <= now()
           and (lease_until is null or lease_until < now())
         order by batch_no limit 1 ${skipLocked})
       update revocation_batch b set lease_until = now() + ($3::int * interval '1 millisecond'),
         attempts = b.attempts + 1
       from due where b.id = due.id
       returning b.id, b.batch_no as "batchNo", b.first_person_id as "firstPersonId",
         b.last_person_id as "lastPersonId", b.attempts, due.resumed`,
      [incidentId, action, leaseMs],
    ),
  );
  return row;
}

interface Subject {
  id: string;
  kind: string;
}

/**
 * The batch's people, decrypted, in row order. One aggregated row rather than one row per person:
 * the embedded store's protocol layer copies every field into its own buffer, which cost more than
 * the query itself at 5,000 people. `incident_id + 0` keeps the planner on the primary key's range:
 * without statistics it ANDed in the (incident_id, subject_hash) index, a scan of every person of
 * the incident for each batch (quadratic over a run). Sealed identifiers are base64url with dots
 * and kinds are words, so a space cannot occur in either; the counts are checked anyway.
 */
async function batchSubjects(
  store: Store,
  incidentId: number,
  batch: Pick<ClaimedBatch, 'firstPersonId' | 'lastPersonId'>,
  encryptionKey: Uint8Array,
): Promise<Subject[]> {
  const [row] = await store.db.query<{ n: number; kinds: string | null; sealed: string | null }>(
    `select count(*)::int as n, string_agg(identifier_kind, ' ' order by id) as kinds,
       string_agg(identifier, ' ' order by id) as sealed
     from affected_person
     where id between $2 and $3 and incident_id + 0 = $1 and identifier is not null`,
    [incidentId, batch.firstPersonId, batch.lastPersonId],
  );
  if (row === undefined || row.n === 0 || row.kinds === null || row.sealed === null) return [];
  const kinds = row.kinds.split(' ');
  const sealed = row.sealed.split(' ');
  if (kinds.length !== row.n || sealed.length !== row.n) {
    throw new Error(
      `batch of people ${batch.firstPersonId}–${batch.lastPersonId}: unreadable identifier rows`,
    );
  }
  const subjects: Subject[] = new Array<Subject>(row.n);
  for (let i = 0; i < row.n; i++) {
    // Decrypting 10,000 identifiers blocks for tens of milliseconds: yielding now and then lets the
    // request in flight (see prefetch in runRevocation) make progress meanwhile.
    if (i > 0 && i % decryptSlice === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      subjects[i] = { id: decryptText(encryptionKey, sealed[i] as string), kind: kinds[i] as string };
    } catch (cause) {
      throw new UsageError(
        'cannot open the sealed identifiers: the key file (LEAKWATCH_KEY_FILE / LEAKWATCH_SECRET_KEY) is not the one the incident was opened with',
        { cause },
      );
    }
  }
  return subjects;
}

/**
 * The batch `claimBatch` would take next, without claiming it: its people are read while the
 * current batch is in flight. Nothing is leased or counted, so a run that dies leaves no trace of
 * the look-ahead; the claim that follows decides, and a mismatch (another sender took it) only
 * wastes the read.
 */
async function peekNextBatch(
  store: Store,
  incidentId: number,
  action: RevocationAction,
): Promise<Pick<ClaimedBatch, 'id' | 'firstPersonId' | 'lastPersonId'> | undefined> {
  const [row] = await store.db.query<Pick<ClaimedBatch, 'id' | 'firstPersonId' | 'lastPersonId'>>(
    `select id, first_person_id as "firstPersonId", last_person_id as "lastPersonId" from revocation_batch
     where incident_id = $1 and action = $2 and status = 'pending' and next_attempt_at <= now()
       and (lease_until is null or lease_until < now())
     order by batch_no limit 1`,
    [incidentId, action],
  );
  return row;
}

interface Prefetch {
  batchId: number;
  firstPersonId: number;
  lastPersonId: number;
  subjects: Promise<Subject[]>;
}

function prefetchNext(
  store: Store,
  incidentId: number,
  action: RevocationAction,
  encryptionKey: Uint8Array,
): Promise<Prefetch | undefined> {
  const next = peekNextBatch(store, incidentId, action).then((batch) => {
    if (batch === undefined) return undefined;
    const subjects = batchSubjects(store, incidentId, batch, encryptionKey);
    // Its failure (a wrong key) is reported when the batch is used, not as an unhandled rejection.
    subjects.catch(() => undefined);
    return {
      batchId: batch.id,
      firstPersonId: batch.firstPersonId,
      lastPersonId: batch.lastPersonId,
      subjects,
    };
  });
  next.catch(() => undefined);
  return next;
}

async function countByStatus(
  store: Store,
  incidentId: number,
  action: RevocationAction,
): Promise<{ sent: number; failed: number; pending: number; subjectsAcknowledged: number }> {
  const rows = await store.db.query<{ status: RevocationStatus; n: number; subjects: number }>(
    `select status, count(*)::int as n, sum(size)::int as subjects from revocation_batch
     where incident_id = $1 and action = $2 group by status`,
    [incidentId, action],
  );
  const of = (status: RevocationStatus) => rows.find((r) => r.status === status);
  return {
    sent: of('sent')?.n ?? 0,
    failed: of('failed')?.n ?? 0,
    pending: of('pending')?.n ?? 0,
    subjectsAcknowledged: of('sent')?.subjects ?? 0,
  };
}

/**
 * Plans and sends one action's batches until none is pending (each sent or failed), then records
 * a `revocation` entry in the incident's timeline. Rerunning resumes: pending batches and those
 * whose sender died are sent, sent ones never again. Refuses a closed incident (its identifiers
 * are purged).
 */
export async function runRevocation(
  store: Store,
  incident: IncidentRecord,
  options: RevocationOptions,
): Promise<RevocationTally> {
  if (incident.status === 'closed') {
    throw new UsageError(
      `${incident.ref} is closed: the identifiers of its people were purged, so nothing can be revoked`,
    );
  }
  const url = parseHookUrl(options.url);
  decodeWebhookSecret(options.secret);
  const { action } = options;
  const maxAttempts = options.maxAttempts ?? revocationDefaults.maxAttempts;
  const backoffMs = options.backoffMs ?? revocationDefaults.backoffMs;
  const maxBackoffMs = options.maxBackoffMs ?? revocationDefaults.maxBackoffMs;
  const timeoutMs = options.timeoutMs ?? revocationDefaults.timeoutMs;
  const leaseMs = options.leaseMs ?? revocationDefaults.leaseMs;
  const minIntervalMs =
    options.ratePerSecond === undefined ? 0 : Math.ceil(1000 / Math.max(options.ratePerSecond, 0.001));
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new UsageError(`max attempts must be a positive integer, not ${maxAttempts}`);
  }
  const note = options.onNote ?? (() => undefined);
  // A function, not a field read: TypeScript would narrow `aborted` for the whole loop.
  const stopped = (): boolean => options.signal?.aborted === true;
  const hook = redactUrl(url);
  // Read once, when the first batch needs it: deriving the keys reads the key file each time.
  let sealKey: Uint8Array | undefined;
  const encryptionKey = (): Uint8Array => (sealKey ??= store.peopleKeys().encryptionKey);

  const plan = await planRevocation(store, incident.id, action, options.batchSize);
  if (store.db.kind === 'pglite') {
    // The embedded store admits one process (lock file): a lease found now belongs to a process
    // that died, so its batch is due at once rather than when the lease runs out. It stays marked
    // as claimed, so the resend is reported below.
    await store.db.query(
      `update revocation_batch set lease_until = now() - interval '1 millisecond'
       where incident_id = $1 and action = $2 and status = 'pending' and lease_until > now()`,
      [incident.id, action],
    );
  }

  const thisRun: RevocationTally['thisRun'] = { sent: 0, failed: 0, retries: 0, resent: [] };
  let counts = await countByStatus(store, incident.id, action);
  const progress = (): void =>
    options.onProgress?.({ action, done: counts.sent + counts.failed, total: plan.batches });
  progress();
  let lastStart = 0;
  /** The next batch's people, read while the current batch is in flight. */
  let prefetch: Promise<Prefetch | undefined> | undefined;

  while (!stopped()) {
    const batch = await claimBatch(store, incident.id, action, leaseMs);
    if (batch === undefined) {
      const [next] = await store.db.query<{ at: Date | null }>(
        `select min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) as at
         from revocation_batch where incident_id = $1 and action = $2 and status = 'pending'`,
        [incident.id, action],
      );
      if (next?.at === null || next?.at === undefined) break;
      await sleep(Math.min(maxIdleMs, Math.max(10, next.at.getTime() - Date.now())), options.signal);
      continue;
    }
    const webhookId = revocationWebhookId(incident.id, action, batch.batchNo);
    if (batch.resumed) {
      thisRun.resent.push(batch.batchNo);
      note(
        `batch ${batch.batchNo} was in flight when an earlier run stopped; it is sent again with the same ` +
          `webhook-id ${webhookId}, so the application can drop it if it already acted on it`,
      );
    }
    const wait = lastStart + minIntervalMs - Date.now();
    if (wait > 0) await sleep(wait, options.signal);
    lastStart = Date.now();

    const ahead = await prefetch?.catch(() => undefined);
    prefetch = undefined;
    const subjects =
      ahead !== undefined &&
      ahead.batchId === batch.id &&
      ahead.firstPersonId === batch.firstPersonId &&
      ahead.lastPersonId === batch.lastPersonId
        ? await ahead.subjects
        : await batchSubjects(store, incident.id, batch, encryptionKey());
    const identifiers = subjects.map((s) => s.id);
    const body = JSON.stringify({
      type: 'leakwatch.revocation',
      action,
      incident: incident.ref,
      batch: batch.batchNo,
      batches: plan.batches,
      subjects,
      issuedAt: new Date().toISOString(),
    });
    // Taken per attempt: a retry minutes later must not look like a replay to the receiver.
    const timestamp = Math.floor(Date.now() / 1000);

    let outcome:
      | { kind: 'sent'; receipt: RevocationReceipt }
      | { kind: 'retry' | 'failed'; error: string; receipt?: RevocationReceipt; retryAfterMs?: number };
    try {
      const exchange = exchangeJson(url, {
        body,
        signal: options.signal ?? new AbortController().signal,
        timeoutMs,
        headers: {
          'webhook-id': webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(options.secret, webhookId, timestamp, body),
        },
      });
      // Started after the request, so it runs while the receiver works rather than before it sends.
      if (!stopped()) prefetch = prefetchNext(store, incident.id, action, encryptionKey());
      const answer = await exchange;
      const receipt = makeReceipt(webhookId, answer.status, answer.body, identifiers);
      if (answer.status >= 200 && answer.status <= 299) outcome = { kind: 'sent', receipt };
      else {
        const error = `HTTP ${answer.status}${receipt.body === undefined ? '' : `: ${sanitizeText(receipt.body, 160)}`}`;
        const retryAfterMs = parseRetryAfter(answer.headers['retry-after']);
        outcome = {
          kind: isRetryableStatus(answer.status) ? 'retry' : 'failed',
          error,
          receipt,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        };
      }
    } catch (error) {
      if (!(error instanceof DeliveryError)) throw error;
      outcome = { kind: 'retry', error: sanitizeText(scrub(error.message, identifiers)) };
    }

    if (outcome.kind === 'sent') {
      await store.db.query(
        `update revocation_batch set status = 'sent', lease_until = null, sent_at = now(), last_error = null,
           receipt = $2::jsonb where id = $1`,
        [batch.id, JSON.stringify(outcome.receipt)],
      );
      thisRun.sent++;
    } else if (outcome.kind === 'retry' && batch.attempts < maxAttempts && !stopped()) {
      const delay =
        outcome.retryAfterMs === undefined
          ? backoffDelay(batch.attempts, backoffMs, maxBackoffMs)
          : Math.min(outcome.retryAfterMs, maxBackoffMs);
      await store.db.query(
        `update revocation_batch set lease_until = null, next_attempt_at = $2, last_error = $3,
           receipt = coalesce($4::jsonb, receipt) where id = $1`,
        [
          batch.id,
          new Date(Date.now() + delay),
          outcome.error,
          outcome.receipt === undefined ? null : JSON.stringify(outcome.receipt),
        ],
      );
      thisRun.retries++;
      note(
        `batch ${batch.batchNo}: ${outcome.error}; retry ${batch.attempts + 1} of ${maxAttempts} in ${Math.round(delay)} ms`,
      );
    } else if (outcome.kind === 'retry' && stopped()) {
      // Stopped by the user: the batch is due again at the next run, this attempt not counted.
      await store.db.query(
        'update revocation_batch set lease_until = null, attempts = attempts - 1 where id = $1',
        [batch.id],
      );
    } else {
      await store.db.query(
        `update revocation_batch set status = 'failed', lease_until = null, last_error = $2,
           receipt = coalesce($3::jsonb, receipt) where id = $1`,
        [batch.id, outcome.error, outcome.receipt === undefined ? null : JSON.stringify(outcome.receipt)],
      );
      thisRun.failed++;
      note(`batch ${batch.batchNo} failed after ${batch.attempts} attempt(s): ${outcome.error}`);
    }
    counts = await countByStatus(store, incident.id, action);
    progress();
  }
  // A look-ahead still reading must finish before the caller may close the store.
  await (await prefetch?.catch(() => undefined))?.subjects.catch(() => undefined);

  counts = await countByStatus(store, incident.id, action);
  if (counts.pending === 0 && plan.batches > 0) {
    const failedPart =
      counts.failed === 0
        ? ''
        : `; ${counts.failed} batch(es) failed permanently (leakwatch revoke --receipts)`;
    const detail =
      `${action}: ${counts.sent} of ${plan.batches} batches (${counts.subjectsAcknowledged} of ${plan.subjects} people) ` +
      `acknowledged by ${hook}${failedPart}`;
    // One entry per completed state of the action: a rerun that changed nothing adds none, while a
    // run that died after the last batch and before this line adds it on the next run.
    const [seen] = await store.db.query<{ n: number }>(
      `select count(*)::int as n from incident_timeline where incident_id = $1 and kind = 'revocation' and detail = $2`,
      [incident.id, detail],
    );
    if ((seen?.n ?? 0) === 0) await appendTimeline(store, incident.id, 'revocation', detail);
  }

  return {
    incident: incident.ref,
    action,
    hook,
    batches: plan.batches,
    subjects: plan.subjects,
    unidentified: plan.unidentified,
    ...counts,
    thisRun,
  };
}

/** Makes an action's permanently failed batches pending again (after the application was fixed). */
export async function retryFailedBatches(
  store: Store,
  incidentId: number,
  action: RevocationAction,
): Promise<number> {
  const rows = await store.db.query<{ id: number }>(
    `update revocation_batch set status = 'pending', attempts = 0, next_attempt_at = now(), lease_until = null
     where incident_id = $1 and action = $2 and status = 'failed' returning id`,
    [incidentId, action],
  );
  return rows.length;
}
