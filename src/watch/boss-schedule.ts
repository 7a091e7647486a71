import PgBoss from 'pg-boss';
import type { SqlDatabase } from '../store/sql-client.js';
import type { ProbeSchedule, ScheduledStore } from './probe-schedule.js';

// Not `stately` (the first design, queue `leakwatch-probe`): there a dead worker's active job makes
// pg-boss's fetch of the same store's next job fail on a unique index, and a failed fetch takes no
// job at all, so one kill -9 stalled every store until the job expired (90 s). A new name, because
// pg-boss keeps the policy of an existing queue.
const queue = 'leakwatch-probes';
// pg-boss keeps its tables in their own schema of the store's database.
const bossSchema = 'leakwatch_boss';

export interface BossScheduleOptions {
  /** The store's PostgreSQL URL. */
  url: string;
  /** The store's own connection, to find stores whose next probe went missing. */
  db: SqlDatabase;
  concurrency: number;
  /** A probe job whose worker died is handed to another worker after this. */
  expireSeconds?: number;
  jitter?: number;
  /** How often this process checks that every active store has its next probe queued. */
  reconcileMs?: number;
}

interface ProbeJob {
  storeId: number;
}

/**
 * The probe schedule shared by every `watch` and `worker` process on one PostgreSQL store, through
 * pg-boss: each store has at most one queued probe job (a `short` queue with the store id as
 * singleton key); the worker that runs it queues the store's next probe one interval later. A worker
 * killed mid-probe leaves its job active, which blocks nothing: every process re-queues a store not
 * probed for three intervals, and the dead job, once expired, is retried as one extra probe (the
 * store row's newest-probe check keeps it from rewinding the state). So no store drops out.
 */
export class BossSchedule implements ProbeSchedule {
  private readonly boss: PgBoss;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly jitter: number;

  constructor(private readonly options: BossScheduleOptions) {
    this.jitter = options.jitter ?? 0.2;
    this.boss = new PgBoss({
      connectionString: options.url,
      schema: bossSchema,
      application_name: 'leakwatch-worker',
      max: Math.max(2, Math.min(10, Math.ceil(options.concurrency / 4) + 2)),
      // Expired jobs are found by maintenance; probes need that within seconds, not minutes.
      maintenanceIntervalSeconds: 5,
      superviseIntervalSeconds: 5,
      monitorStateIntervalSeconds: 60,
      schedule: false,
    } as PgBoss.ConstructorOptions);
    // A lost connection is retried by pg-boss itself; its error events must not end the process.
    this.boss.on('error', () => undefined);
  }

  async start(stores: readonly ScheduledStore[], probe: (storeId: number) => Promise<void>): Promise<void> {
    await this.boss.start();
    await this.boss.createQueue(queue, {
      name: queue,
      policy: 'short',
      retryLimit: 1_000_000,
      retryDelay: 1,
      expireInSeconds: this.options.expireSeconds ?? 90,
      retentionMinutes: 10,
    });
    for (const store of stores) await this.enqueue(store, Math.random() * Math.min(store.intervalMs, 1000));
    const batchSize = 4;
    const workers = Math.max(1, Math.ceil(this.options.concurrency / batchSize));
    for (let i = 0; i < workers; i++) {
      await this.boss.work<ProbeJob>(queue, { batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
        const results = await Promise.allSettled(jobs.map((job) => this.runJob(job.data.storeId, probe)));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
      });
    }
    this.reconcileTimer = setInterval(
      () => void this.reconcile().catch(() => undefined),
      this.options.reconcileMs ?? 5000,
    );
  }

  private async runJob(storeId: number, probe: (storeId: number) => Promise<void>): Promise<void> {
    const [store] = await this.options.db.query<{ intervalMs: number; active: boolean }>(
      'select interval_ms as "intervalMs", active from watched_store where id = $1',
      [storeId],
    );
    if (store?.active !== true) return;
    const started = Date.now();
    try {
      await probe(storeId);
    } finally {
      if (!this.stopped) {
        const period = store.intervalMs * (1 - this.jitter + 2 * this.jitter * Math.random());
        await this.enqueue({ id: storeId, intervalMs: store.intervalMs }, period - (Date.now() - started));
      }
    }
  }

  private async enqueue(store: ScheduledStore, delayMs: number): Promise<void> {
    await this.boss.send(queue, { storeId: store.id } satisfies ProbeJob, {
      singletonKey: String(store.id),
      startAfter: new Date(Date.now() + Math.max(0, delayMs)),
    });
  }

  /** Queues a probe for every active store not probed for three intervals (its job was lost). */
  async reconcile(): Promise<number> {
    const late = await this.options.db.query<ScheduledStore>(
      `select id, interval_ms as "intervalMs" from watched_store
       where active and (last_probe_at is null or last_probe_at < now() - 3 * interval_ms * interval '1 millisecond')`,
    );
    for (const store of late) await this.enqueue(store, 0);
    return late.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconcileTimer !== undefined) clearInterval(this.reconcileTimer);
    await this.boss.stop({ graceful: true, timeout: 15_000, wait: true });
  }
}
