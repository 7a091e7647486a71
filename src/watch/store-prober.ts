import { sanitizeText } from '../core/redact.js';
import type { WatchEventRow } from '../store/store-rows.js';
import type { Store } from '../store/store.js';
import { decideObservation, needsClassification } from './decide-observation.js';
import { probeStore } from './probe-store.js';
import type { WatchEvent } from './watch-event.js';
import type { WatchMetrics } from './watch-metrics.js';

export interface ProberSettings {
  timeoutMs: number;
  classifyIntervalMs: number;
  sampleLimit: number;
  sampleTimeoutMs: number;
  excludes?: readonly string[];
}

export const proberDefaults = {
  intervalMs: 5000,
  classifyIntervalMs: 10 * 60_000,
  timeoutMs: 5000,
  sampleLimit: 1000,
  sampleTimeoutMs: 30_000,
  concurrency: 32,
} as const;

export interface ProbeOutcome {
  state: string;
  events: WatchEvent[];
  /** Events were written (perhaps with alerts): the dispatcher should look now. */
  alerted: boolean;
}

/**
 * Probes one watched store and records what it saw, shared by the local scheduler of `watch` and
 * the pg-boss workers. The store's row is re-read for every probe, so any process may probe any
 * store and the timeline stays one sequence.
 */
export class StoreProber {
  constructor(
    private readonly store: Store,
    private readonly settings: ProberSettings,
    private readonly alertChannels: readonly string[],
    private readonly metrics?: WatchMetrics,
  ) {}

  async probe(storeId: number): Promise<ProbeOutcome | undefined> {
    const current = await this.store.getWatchedStore(storeId);
    if (current?.active !== true) return undefined;
    const started = performance.now();
    let report = await probeStore(current.probeTarget, {
      timeoutMs: this.settings.timeoutMs,
      ...(this.settings.excludes === undefined ? {} : { excludes: this.settings.excludes }),
    });
    let classified = false;
    if (needsClassification(current, report, this.settings.classifyIntervalMs, new Date())) {
      const sampled = await probeStore(current.probeTarget, {
        timeoutMs: this.settings.timeoutMs,
        sample: { limit: this.settings.sampleLimit, timeoutMs: this.settings.sampleTimeoutMs },
        ...(this.settings.excludes === undefined ? {} : { excludes: this.settings.excludes }),
      });
      // It may have closed between the two probes; then the second probe is the newer truth.
      report = sampled;
      classified = sampled.status === 'open';
    }
    const seconds = (performance.now() - started) / 1000;
    const at = new Date();
    const rows: WatchEventRow[] = await this.store.recordObservation(
      storeId,
      this.alertChannels,
      (row, window) =>
        row.lastProbeAt !== null && row.lastProbeAt.getTime() > at.getTime()
          ? // Another process recorded a newer probe meanwhile; an older one must not rewind the state.
            { store: {}, events: [] }
          : decideObservation(row, window, { at, report, classified }),
    );
    this.metrics?.observeProbe(
      current.name,
      current.protocol,
      seconds,
      report.status === 'open' || report.status === 'auth-required',
    );
    return {
      state: report.status,
      events: rows.map((row) => row.payload as WatchEvent),
      alerted: rows.length > 0,
    };
  }

  describeError(error: unknown): string {
    return sanitizeText(error instanceof Error ? error.message : String(error));
  }
}
