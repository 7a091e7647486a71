import type { Store } from '../store/store.js';
import type { AlertChannel } from './alert-channel.js';
import { AlertDispatcher, type AlertDispatcherOptions } from './alert-dispatcher.js';
import type { ProbeSchedule, ScheduledStore } from './probe-schedule.js';
import { StoreProber, type ProberSettings } from './store-prober.js';
import { storeStates, type StoreState, type WatchEvent } from './watch-event.js';
import type { WatchMetrics } from './watch-metrics.js';

export interface WatcherOptions extends ProberSettings {
  store: Store;
  schedule: ProbeSchedule;
  /** Stores this process schedules first (all active ones for a local schedule). */
  stores: readonly ScheduledStore[];
  channels: readonly AlertChannel[];
  metrics?: WatchMetrics;
  dispatcher?: Omit<AlertDispatcherOptions, 'metrics'>;
  onEvent?: (event: WatchEvent) => void;
  onProbeError?: (storeId: number, message: string) => void;
}

/**
 * One watching process: a schedule drives probes, each probe's outcome is recorded atomically with
 * its events and alerts, and the dispatcher delivers those. Used by `watch` and `worker`.
 */
export class Watcher {
  readonly dispatcher: AlertDispatcher;
  private readonly prober: StoreProber;
  private gaugeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: WatcherOptions) {
    this.dispatcher = new AlertDispatcher(options.store, options.channels, {
      ...options.dispatcher,
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    });
    this.prober = new StoreProber(
      options.store,
      options,
      options.channels.map((c) => c.id),
      options.metrics,
    );
  }

  async start(): Promise<void> {
    this.dispatcher.start();
    await this.options.schedule.start(this.options.stores, (id) => this.probe(id));
    if (this.options.metrics !== undefined) {
      await this.refreshGauges();
      this.gaugeTimer = setInterval(() => void this.refreshGauges().catch(() => undefined), 2000);
    }
  }

  /** Probes one store now (the schedule calls this); never rejects for a probe outcome. */
  async probe(storeId: number): Promise<void> {
    try {
      const outcome = await this.prober.probe(storeId);
      if (outcome === undefined) return;
      if (outcome.alerted) this.dispatcher.wake();
      for (const event of outcome.events) this.options.onEvent?.(event);
    } catch (error) {
      this.options.onProbeError?.(storeId, this.prober.describeError(error));
      throw error;
    }
  }

  private async refreshGauges(): Promise<void> {
    const metrics = this.options.metrics;
    if (metrics === undefined) return;
    const rows = await this.options.store.db.query<{ state: string; n: number }>(
      'select state, count(*)::int as n from watched_store where active group by state',
    );
    const counts = Object.fromEntries(storeStates.map((s) => [s, 0])) as Record<StoreState, number>;
    for (const row of rows) if (row.state in counts) counts[row.state as StoreState] = row.n;
    metrics.setStoreStates(counts);
    metrics.setOpenExposureWindows(await this.options.store.countOpenWindows());
  }

  async stop(): Promise<void> {
    if (this.gaugeTimer !== undefined) clearInterval(this.gaugeTimer);
    await this.options.schedule.stop();
    await this.prober.close().catch(() => undefined);
    await this.dispatcher.stop();
  }
}
