import { sanitizeText } from '../core/redact.js';
import type { ExposureWindowRow, WatchEventRow, WatchedStoreRow } from '../store/store-rows.js';
import type { Heartbeat, Store } from '../store/store.js';
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
  /**
   * With an embedded store this process is the only writer, so rows and open windows are kept in
   * memory, and probes that change nothing but their time are written in batches.
   */
  private readonly cache:
    Map<number, { row: WatchedStoreRow; window: ExposureWindowRow | undefined }> | undefined;
  private readonly pending = new Map<number, Heartbeat>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly settings: ProberSettings,
    private readonly alertChannels: readonly string[],
    private readonly metrics?: WatchMetrics,
  ) {
    if (store.location.kind === 'pglite') {
      this.cache = new Map();
      this.flushTimer = setInterval(() => void this.flush().catch(() => undefined), heartbeatFlushMs);
      this.flushTimer.unref();
    }
  }

  private async current(
    storeId: number,
  ): Promise<{ row: WatchedStoreRow; window: ExposureWindowRow | undefined } | undefined> {
    const cached = this.cache?.get(storeId);
    if (cached !== undefined) return cached;
    const row = await this.store.getWatchedStore(storeId);
    if (row === undefined) return undefined;
    const entry = { row, window: await this.store.openWindow(storeId) };
    this.cache?.set(storeId, entry);
    return entry;
  }

  async probe(storeId: number): Promise<ProbeOutcome | undefined> {
    const entry = await this.current(storeId);
    const current = entry?.row;
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
    this.metrics?.observeProbe(
      current.name,
      current.protocol,
      seconds,
      report.status === 'open' || report.status === 'auth-required',
    );
    const observation = { at, report, classified };

    if (this.cache !== undefined && entry !== undefined) {
      const write = decideObservation(current, entry.window, observation);
      if (
        write.events.length === 0 &&
        write.openWindow === undefined &&
        write.updateWindow === undefined &&
        write.store.state === current.state &&
        write.store.exposure === undefined
      ) {
        // Nothing happened but time: remember it now, write it with the next batch.
        Object.assign(current, write.store);
        this.pending.set(storeId, {
          id: storeId,
          at,
          probeMs: current.probeMs,
          detail: current.detail,
          lastSuccessAt: write.store.lastSuccessAt ?? null,
          lastProtectedAt: write.store.lastProtectedAt ?? null,
          records: write.store.records ?? null,
          server: write.store.server ?? null,
        });
        return { state: report.status, events: [], alerted: false };
      }
      // A change: the row in the database must be as current as the one in memory first.
      await this.flush();
    }

    const rows: WatchEventRow[] = await this.store.recordObservation(
      storeId,
      this.alertChannels,
      (row, window) =>
        row.lastProbeAt !== null && row.lastProbeAt.getTime() > at.getTime()
          ? // Another process recorded a newer probe meanwhile; an older one must not rewind the state.
            { store: {}, events: [] }
          : decideObservation(row, window, observation),
    );
    if (this.cache !== undefined) {
      this.cache.delete(storeId);
      await this.current(storeId);
    }
    return {
      state: report.status,
      events: rows.map((row) => row.payload as WatchEvent),
      alerted: rows.length > 0,
    };
  }

  /** Writes the batched probes; called on a timer, before every change, and on stop. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const beats = [...this.pending.values()];
      this.pending.clear();
      try {
        await this.store.recordHeartbeats(beats);
      } catch (error) {
        // Keep them for the next attempt unless a newer probe of the same store replaced them.
        for (const beat of beats) if (!this.pending.has(beat.id)) this.pending.set(beat.id, beat);
        throw error;
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.flushTimer !== undefined) clearInterval(this.flushTimer);
    await this.flush();
  }

  describeError(error: unknown): string {
    return sanitizeText(error instanceof Error ? error.message : String(error));
  }
}

/** How long a probe that changed nothing may wait to be written: the most a kill -9 can lose. */
const heartbeatFlushMs = 2000;
