import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { toolVersion } from '../core/version.js';
import type { AlertChannelKind } from './alert-channel.js';
import { storeStates, type StoreState } from './watch-event.js';

export interface WatchMetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag, GC) as `leakwatch_*`. Default true. */
  defaultMetrics?: boolean;
}

// A record rather than an array so that a new channel kind is a compile error here until listed.
const alertChannelKinds = Object.keys({ webhook: true, slack: true, email: true } satisfies Record<
  AlertChannelKind,
  true
>) as AlertChannelKind[];

/**
 * Probe latencies range from a loopback Redis answering in about a millisecond to a probe running into
 * its 30 s timeout; the buckets are spaced roughly 2.5x apart across that range so that both ends
 * and the usual 10 ms .. 1 s of a remote store are resolved.
 */
const probeDurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The Prometheus metrics of `leakwatch watch`. Each instance owns its own registry, never prom-client's
 * global one, so several watchers in a process (and tests) do not collide over metric names.
 *
 * Store names are the user's labels and go into label values unchanged: Prometheus allows any UTF-8
 * there and the exposition format escapes quotes, backslashes and newlines.
 */
export class WatchMetrics {
  readonly registry: Registry;
  private readonly stores: Gauge<'state'>;
  private readonly probeDuration: Histogram<'protocol'>;
  private readonly probes: Counter<'protocol' | 'result'>;
  private readonly lastSuccessfulProbe: Gauge<'store'>;
  private readonly alertsSent: Counter<'channel'>;
  private readonly alertsFailed: Counter<'channel' | 'permanent'>;
  private readonly openExposureWindows: Gauge;

  constructor(options: WatchMetricsOptions = {}) {
    const registry = new Registry();
    this.registry = registry;
    const registers = [registry];

    this.stores = new Gauge({
      name: 'leakwatch_stores',
      help: 'Watched stores by their current protection state.',
      labelNames: ['state'],
      registers,
    });
    // Every state is exported from the start so that a query like `leakwatch_stores{state="open"} > 0`
    // sees 0 rather than "no data" before the first store opens.
    for (const state of storeStates) this.stores.set({ state }, 0);

    this.probeDuration = new Histogram({
      name: 'leakwatch_probe_duration_seconds',
      help: 'Duration of protection probes of watched stores.',
      labelNames: ['protocol'],
      buckets: probeDurationBuckets,
      registers,
    });
    this.probes = new Counter({
      name: 'leakwatch_probes_total',
      help: 'Protection probes of watched stores, by whether the probe reached a verdict.',
      labelNames: ['protocol', 'result'],
      registers,
    });
    this.lastSuccessfulProbe = new Gauge({
      name: 'leakwatch_last_successful_probe_timestamp_seconds',
      help: 'Unix time of the latest successful probe of each watched store.',
      labelNames: ['store'],
      registers,
    });
    this.alertsSent = new Counter({
      name: 'leakwatch_alerts_sent_total',
      help: 'Alerts delivered, by channel kind.',
      labelNames: ['channel'],
      registers,
    });
    this.alertsFailed = new Counter({
      name: 'leakwatch_alerts_failed_total',
      help: 'Alert delivery attempts that failed, by channel kind and whether retrying could help.',
      labelNames: ['channel', 'permanent'],
      registers,
    });
    // Counters start at 0 per channel so that `increase()` sees the first failure, not a new series.
    for (const channel of alertChannelKinds) {
      this.alertsSent.inc({ channel }, 0);
      for (const permanent of ['true', 'false']) this.alertsFailed.inc({ channel, permanent }, 0);
    }
    this.openExposureWindows = new Gauge({
      name: 'leakwatch_open_exposure_windows',
      help: 'Exposure windows currently open (stores readable without credentials).',
      registers,
    });
    this.openExposureWindows.set(0);
    new Gauge({
      name: 'leakwatch_build_info',
      help: 'Always 1; the version label tells which Leakwatch is running.',
      labelNames: ['version'],
      registers,
    }).set({ version: toolVersion }, 1);

    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'leakwatch_' });
  }

  /** The `Content-Type` header of what `render()` returns. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Replaces the per-state store counts; states missing from `counts` are 0. */
  setStoreStates(counts: Partial<Record<StoreState, number>>): void {
    for (const state of storeStates) this.stores.set({ state }, counts[state] ?? 0);
  }

  /**
   * Records one probe. `ok`: the probe reached a verdict about protection (open or protected), so the
   * store's last-successful timestamp moves; an alert on its age catches a watcher that stopped
   * seeing a store.
   */
  observeProbe(store: string, protocol: string, seconds: number, ok: boolean): void {
    this.probeDuration.observe({ protocol }, seconds);
    this.probes.inc({ protocol, result: ok ? 'ok' : 'failed' });
    if (ok) this.lastSuccessfulProbe.set({ store }, Date.now() / 1000);
  }

  /** Drops a store's own series once it is no longer watched, so its timestamp does not go stale and alert. */
  forgetStore(store: string): void {
    this.lastSuccessfulProbe.remove({ store });
  }

  alertSent(channel: AlertChannelKind): void {
    this.alertsSent.inc({ channel });
  }

  alertFailed(channel: AlertChannelKind, permanent: boolean): void {
    this.alertsFailed.inc({ channel, permanent: String(permanent) });
  }

  setOpenExposureWindows(count: number): void {
    this.openExposureWindows.set(count);
  }

  /** The registry in Prometheus' text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
