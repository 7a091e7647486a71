import type { ProbeSchedule, ScheduledStore } from './probe-schedule.js';

/**
 * The schedule of one `watch` process on an embedded store: a timer per store, jittered so probes
 * of many stores spread out, and at most `concurrency` probes at once.
 */
export class LocalSchedule implements ProbeSchedule {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly waiting: (() => void)[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private active = 0;
  private stopped = false;

  constructor(
    private readonly concurrency: number,
    private readonly jitter = 0.2,
    private readonly random: () => number = Math.random,
  ) {}

  start(stores: readonly ScheduledStore[], probe: (storeId: number) => Promise<void>): Promise<void> {
    for (const store of stores) {
      // The first round spreads over one interval instead of hitting every store at once.
      this.arm(store, probe, Math.round(this.random() * Math.min(store.intervalMs, 1000)));
    }
    return Promise.resolve();
  }

  private arm(store: ScheduledStore, probe: (storeId: number) => Promise<void>, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(store.id);
      const started = Date.now();
      const run = this.withSlot(() => probe(store.id))
        // The caller reports its own failures; a failed probe is simply retried next period.
        .catch(() => undefined)
        .finally(() => {
          this.inFlight.delete(run);
          const period = store.intervalMs * (1 - this.jitter + 2 * this.jitter * this.random());
          this.arm(store, probe, Math.max(0, Math.round(period - (Date.now() - started))));
        });
      this.inFlight.add(run);
    }, delayMs);
    this.timers.set(store.id, timer);
  }

  private async withSlot(work: () => Promise<void>): Promise<void> {
    if (this.active >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      if (!this.stopped) await work();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const resolve of this.waiting.splice(0)) resolve();
    await Promise.allSettled([...this.inFlight]);
  }
}
