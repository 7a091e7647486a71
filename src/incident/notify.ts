import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { maskValue } from '../classify/mask-value.js';
import type { Category } from '../core/category.js';
import { UsageError } from '../core/errors.js';
import { decryptText, type PeopleKeys } from '../core/sealed-text.js';
import { sleep } from '../core/sleep.js';
import type { Store } from '../store/store.js';
import { backoffDelay } from '../watch/alert-dispatcher.js';
import type { IncidentRecord } from './incident.js';
import { appendTimeline } from './incident-store.js';
import {
  campaignDeadline,
  NotificationComposer,
  type IndividualNoticeKind,
  type NotificationContent,
} from './notification-message.js';
import {
  canaryLimit,
  claimNotifications,
  countOutbox,
  markNotificationFailed,
  markNotificationRetry,
  markNotificationsSent,
  nextDue,
  notificationMessageId,
  releaseDeadNotificationLeases,
  releaseNotifications,
  type ClaimedNotification,
  type OutboxCounts,
} from './notification-outbox.js';
import type { NotificationSender, SendOutcome } from './notification-sender.js';
import { TokenBucket } from './token-bucket.js';

export const campaignDefaults = {
  maxAttempts: 6,
  retryDelayMs: 30_000,
  maxRetryDelayMs: 30 * 60_000,
  /** Longer than any one send can take (3 × the SMTP step timeout), so a live worker keeps its rows. */
  leaseMs: 5 * 60_000,
  batchSize: 64,
  /** Sends awaiting a reply at once: enough to keep 4 pooled connections busy. */
  concurrency: 16,
  /** Sent rows are marked in batches of this many (or every `flushMs`). */
  flushSize: 64,
  flushMs: 100,
} as const;

export interface CampaignProgress {
  /** Rows this run set out to handle (pending in scope when it started). */
  total: number;
  sent: number;
  failed: number;
  retried: number;
}

export interface CampaignOptions {
  incident: IncidentRecord;
  kind: IndividualNoticeKind;
  sender: NotificationSender;
  keys: PeopleKeys;
  /** Messages per second at most. */
  rate?: number;
  /** Send only the first N pending rows (by id), then stop. */
  canary?: number;
  maxAttempts?: number;
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  leaseMs?: number;
  batchSize?: number;
  concurrency?: number;
  /** Stop claiming; sends in flight finish, the rest go back to the outbox. */
  signal?: AbortSignal;
  onProgress?: (progress: CampaignProgress) => void;
}

export interface CampaignTally {
  /** The outbox after this run. */
  outbox: OutboxCounts;
  /** What this run did. */
  run: CampaignProgress;
  /** Every row is sent or failed: the deadline's timeline entry was written. */
  completed: boolean;
  /** Stopped after the canary's rows. */
  canary?: number;
  interrupted: boolean;
}

/** A campaign needs what the letter needs: refused for a closed incident (contacts purged) or with gaps. */
export function checkCampaign(incident: IncidentRecord, composer: NotificationComposer): void {
  if (incident.status === 'closed')
    throw new UsageError(
      `${incident.ref} is closed: its contact addresses were purged, nobody can be notified`,
    );
  const missing = composer.missing();
  if (missing.length > 0)
    throw new UsageError(
      `the ${composer.kind} notice of ${incident.ref} is incomplete (${missing.map((m) => m.field).join(', ')}): ` +
        `see leakwatch notice ${incident.ref} --kind ${composer.kind}; set facts with leakwatch incident facts`,
    );
}

function unseal(keys: PeopleKeys, sealed: string): string {
  try {
    return decryptText(keys.encryptionKey, sealed);
  } catch (cause) {
    throw new UsageError(
      'cannot unseal contact addresses: is the key (LEAKWATCH_SECRET_KEY or the key file) the one the incident was opened with?',
      { cause },
    );
  }
}

/**
 * Sends one notice per pending outbox row of the incident: claims rows with a lease, opens the
 * contact in memory, composes the letter for that person's categories, and records the outcome
 * (sent; retry with exponential backoff on 4xx and connection failures; failed on 5xx or after
 * `maxAttempts`). Resumable: rows leased by a dead process are claimed again, and each row becomes
 * `sent` at most once. When no row is left pending, the incident's timeline records the notification.
 */
export async function runCampaign(store: Store, options: CampaignOptions): Promise<CampaignTally> {
  const { incident, keys, sender, signal } = options;
  const composer = new NotificationComposer(incident, options.kind);
  checkCampaign(incident, composer);
  const maxAttempts = options.maxAttempts ?? campaignDefaults.maxAttempts;
  const retryDelayMs = options.retryDelayMs ?? campaignDefaults.retryDelayMs;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? campaignDefaults.maxRetryDelayMs;
  const leaseMs = options.leaseMs ?? campaignDefaults.leaseMs;
  const batchSize = options.batchSize ?? campaignDefaults.batchSize;
  const concurrency = options.concurrency ?? campaignDefaults.concurrency;
  const bucket = options.rate === undefined ? undefined : new TokenBucket(options.rate);
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  await releaseDeadNotificationLeases(store, incident.id);
  const maxId =
    options.canary === undefined ? undefined : await canaryLimit(store, incident.id, options.canary);
  const before = await countOutbox(store, incident.id);
  const run: CampaignProgress = {
    total: options.canary === undefined ? before.pending : Math.min(options.canary, before.pending),
    sent: 0,
    failed: 0,
    retried: 0,
  };
  const report = (): void => options.onProgress?.({ ...run });
  const inScope = options.canary === undefined || maxId !== undefined;

  // Sent rows are marked in batches: one UPDATE per message would cap the rate at the store's.
  let toMark: number[] = [];
  let marking: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    const ids = toMark;
    toMark = [];
    if (ids.length > 0)
      marking = marking.then(async () => {
        await markNotificationsSent(store, ids, owner);
      });
    return marking;
  };
  const flushTimer = setInterval(() => {
    void flush().catch(() => undefined);
  }, campaignDefaults.flushMs);

  let queue: ClaimedNotification[] = [];
  let claiming: Promise<void> | undefined;
  /** A claim found nothing due: this round ends when the queue is empty. */
  let drained = false;
  let fatal: unknown;
  const stopped = (): boolean => signal?.aborted === true || fatal !== undefined;

  const refill = (): Promise<void> =>
    (claiming ??= claimNotifications(store, {
      incidentId: incident.id,
      owner,
      limit: batchSize,
      leaseMs,
      ...(maxId === undefined ? {} : { maxId }),
    })
      .then((rows) => {
        if (rows.length === 0) drained = true;
        else queue = queue.concat(rows);
      })
      .finally(() => {
        claiming = undefined;
      }));

  const next = async (): Promise<ClaimedNotification | undefined> => {
    while (queue.length === 0 && !drained && !stopped()) await refill();
    // Claim the next batch while this one is sent, so senders never wait for the store.
    if (queue.length < concurrency && !drained && !stopped())
      refill().catch((error: unknown) => {
        fatal ??= error;
      });
    return stopped() ? undefined : queue.shift();
  };

  const record = async (row: ClaimedNotification, outcome: SendOutcome): Promise<void> => {
    if (outcome.kind === 'sent') {
      toMark.push(row.id);
      run.sent++;
      if (toMark.length >= campaignDefaults.flushSize) await flush();
      return;
    }
    const attempt = row.attempts + 1;
    if (outcome.kind === 'transient' && attempt < maxAttempts) {
      const delay = backoffDelay(attempt, retryDelayMs, maxRetryDelayMs);
      await markNotificationRetry(store, row.id, owner, outcome.error, new Date(Date.now() + delay));
      run.retried++;
    } else {
      await markNotificationFailed(store, row.id, owner, outcome.error);
      run.failed++;
    }
  };

  const handle = async (row: ClaimedNotification): Promise<void> => {
    if (row.contact === null) {
      await record(row, { kind: 'permanent', error: 'contact address purged' });
      report();
      return;
    }
    const to = unseal(keys, row.contact);
    const content: NotificationContent = composer.compose(row.categories);
    await bucket?.take();
    const outcome = await sender.send({ ...content, to, messageId: row.messageId, ref: incident.ref });
    await record(row, outcome);
    report();
  };

  const worker = async (): Promise<void> => {
    for (let row = await next(); row !== undefined; row = await next()) {
      try {
        await handle(row);
      } catch (error) {
        fatal ??= error;
      }
    }
  };

  let completed = false;
  try {
    // Rounds: work through what is due; then wait for the earliest retry, until nothing is pending.
    while (inScope && !stopped()) {
      drained = false;
      await Promise.all(Array.from({ length: concurrency }, worker));
      await flush();
      if (stopped()) break;
      const due = await nextDue(store, incident.id, maxId);
      if (due === undefined) break;
      // Bounded waits, so a signal or another worker's progress is noticed.
      await sleep(Math.min(Math.max(due.getTime() - Date.now(), 10), 5_000), signal);
    }
  } finally {
    clearInterval(flushTimer);
    await flush();
    // Rows claimed but not sent (stop, error) go back to the outbox now rather than after the lease.
    await releaseNotifications(store, owner);
  }
  if (fatal !== undefined)
    throw fatal instanceof Error ? fatal : new Error('notification campaign failed', { cause: fatal });

  const outbox = await countOutbox(store, incident.id);
  if (options.canary === undefined && outbox.pending === 0 && !stopped()) {
    completed = true;
    const deadline = campaignDeadline[options.kind];
    const already = incident.timeline.some((e) => e.kind === 'notification' && e.deadline === deadline);
    if (!already && outbox.sent + outbox.failed > 0) {
      await appendTimeline(
        store,
        incident.id,
        'notification',
        `${options.kind} notice emailed to ${outbox.sent} people; ${outbox.failed} could not be reached by email (substitute notice: leakwatch notify ${incident.ref} --failed)`,
        deadline,
      );
    }
  }
  return {
    outbox,
    run,
    completed,
    ...(options.canary === undefined ? {} : { canary: options.canary }),
    interrupted: signal?.aborted === true,
  };
}

export interface CampaignPreview {
  /** Messages a real run would send now (after `--canary`). */
  wouldSend: number;
  outbox: OutboxCounts;
  /** People with a contact and no outbox row yet. */
  notInOutbox: number;
  first?: NotificationContent & { to: string; messageId: string; categories: Category[] };
  missing: { field: string; why: string }[];
}

/** `--dry-run`: counts and the first message, its address masked; reads only. */
export async function previewCampaign(
  store: Store,
  options: {
    incident: IncidentRecord;
    kind: IndividualNoticeKind;
    keys: PeopleKeys;
    domain: string;
    canary?: number;
  },
): Promise<CampaignPreview> {
  const { incident } = options;
  const composer = new NotificationComposer(incident, options.kind);
  if (incident.status === 'closed')
    throw new UsageError(`${incident.ref} is closed: its contact addresses were purged`);
  const outbox = await countOutbox(store, incident.id);
  const [counts] = await store.db.query<{ fresh: number }>(
    `select count(*)::int as fresh from affected_person p
     where p.incident_id = $1 and p.contact is not null
       and not exists (select 1 from notification n where n.person_id = p.id)`,
    [incident.id],
  );
  const notInOutbox = counts?.fresh ?? 0;
  const due = outbox.pending + notInOutbox;
  const [first] = await store.db.query<{ id: number; contact: string; categories: Category[] }>(
    `select p.id, p.contact, p.categories from affected_person p
     left join notification n on n.person_id = p.id
     where p.incident_id = $1 and p.contact is not null and (n.id is null or n.status = 'pending')
     order by p.id limit 1`,
    [incident.id],
  );
  const preview: CampaignPreview = {
    wouldSend: options.canary === undefined ? due : Math.min(options.canary, due),
    outbox,
    notInOutbox,
    missing: composer.missing(),
  };
  if (first !== undefined) {
    preview.first = {
      ...composer.compose(first.categories),
      to: maskValue('email', unseal(options.keys, first.contact)),
      messageId: notificationMessageId(incident.id, first.id, options.domain),
      categories: first.categories,
    };
  }
  return preview;
}
