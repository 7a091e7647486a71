import { sanitizeText } from '../core/redact.js';
import type { Store } from '../store/store.js';
import { DeliveryError, type AlertChannel } from './alert-channel.js';
import type { WatchEvent } from './watch-event.js';
import type { WatchMetrics } from './watch-metrics.js';

export interface AlertDispatcherOptions {
  /** How often the outbox is polled when nothing woke the dispatcher (retries, other processes). */
  pollMs?: number;
  /** A claimed alert returns to the outbox if its sender died; longer than any send takes. */
  leaseMs?: number;
  /** Attempts before an alert is marked failed. */
  maxAttempts?: number;
  /** First retry delay; doubled per attempt up to `maxBackoffMs`, with ±20% jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  sendTimeoutMs?: number;
  metrics?: WatchMetrics;
  onDelivered?: (channel: AlertChannel, event: WatchEvent) => void;
  onFailure?: (channel: AlertChannel, event: WatchEvent, error: string, willRetry: boolean) => void;
}

export const dispatcherDefaults = {
  pollMs: 1000,
  leaseMs: 60_000,
  maxAttempts: 10,
  backoffMs: 2000,
  maxBackoffMs: 10 * 60_000,
  sendTimeoutMs: 15_000,
} as const;

export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}

/**
 * Delivers the alert outbox: alerts are written in the same transaction as the event they announce
 * (store.recordObservation), so a crash loses none; this loop claims due ones with a lease, sends
 * them, and marks them sent, or schedules a retry with exponential backoff, or gives up.
 */
export class AlertDispatcher {
  private readonly options: Required<Omit<AlertDispatcherOptions, 'metrics' | 'onDelivered' | 'onFailure'>>;
  private readonly byId: Map<string, AlertChannel>;
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  /** Sends in flight, aborted when `stop` runs out of patience. */
  private readonly inFlight = new Set<AbortController>();

  constructor(
    private readonly store: Store,
    channels: readonly AlertChannel[],
    private readonly hooks: AlertDispatcherOptions = {},
  ) {
    this.options = {
      pollMs: hooks.pollMs ?? dispatcherDefaults.pollMs,
      leaseMs: hooks.leaseMs ?? dispatcherDefaults.leaseMs,
      maxAttempts: hooks.maxAttempts ?? dispatcherDefaults.maxAttempts,
      backoffMs: hooks.backoffMs ?? dispatcherDefaults.backoffMs,
      maxBackoffMs: hooks.maxBackoffMs ?? dispatcherDefaults.maxBackoffMs,
      sendTimeoutMs: hooks.sendTimeoutMs ?? dispatcherDefaults.sendTimeoutMs,
    };
    this.byId = new Map(channels.map((channel) => [channel.id, channel]));
  }

  get channelIds(): string[] {
    return [...this.byId.keys()];
  }

  start(): void {
    if (this.running || this.byId.size === 0) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New alerts were just written: deliver now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    // Sends in flight get a short grace, then are aborted; their alerts stay leased and are retried.
    const grace = setTimeout(() => {
      for (const controller of this.inFlight) controller.abort();
    }, 2000);
    try {
      await this.loop;
    } finally {
      clearTimeout(grace);
    }
  }

  /** One pass over the due alerts; returns how many it handled. */
  async deliverDue(): Promise<number> {
    const claimed = await this.store.claimAlerts(this.channelIds, 32, this.options.leaseMs);
    await Promise.all(
      claimed.map((alert) => this.deliver(alert.id, alert.channel, alert.attempts, alert.payload)),
    );
    return claimed.length;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let handled = 0;
      try {
        handled = await this.deliverDue();
      } catch {
        // The store is briefly unavailable (PostgreSQL restart); the next poll tries again.
      }
      if (handled > 0) continue;
      if (this.woken) {
        this.woken = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
      this.woken = false;
    }
  }

  private async deliver(id: number, channelId: string, attempts: number, payload: unknown): Promise<void> {
    const channel = this.byId.get(channelId);
    if (channel === undefined) return;
    const event = payload as WatchEvent;
    // One controller for both the send timeout and stop(): AbortSignal.any loses timers on Node 20.
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort();
    }, this.options.sendTimeoutMs);
    this.inFlight.add(controller);
    try {
      await channel.send(event, controller.signal);
      await this.store.markAlertSent(id);
      this.hooks.metrics?.alertSent(channel.kind);
      this.hooks.onDelivered?.(channel, event);
    } catch (error) {
      const message = sanitizeText(error instanceof Error ? error.message : String(error));
      const permanent = error instanceof DeliveryError && error.permanent;
      const attempt = attempts + 1;
      const willRetry = !permanent && attempt < this.options.maxAttempts;
      this.hooks.metrics?.alertFailed(channel.kind, !willRetry);
      this.hooks.onFailure?.(channel, event, message, willRetry);
      if (willRetry) {
        const delay = backoffDelay(attempt, this.options.backoffMs, this.options.maxBackoffMs);
        await this.store.markAlertRetry(id, message, new Date(Date.now() + delay));
      } else {
        await this.store.markAlertFailed(id, message);
      }
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }
}
