import type { WatchEvent } from './watch-event.js';

/** Names of the kinds of channel; an alert row in the store names one. */
export type AlertChannelKind = 'webhook' | 'slack' | 'email';

/**
 * One configured destination. `send` resolves once the peer accepted the alert, and rejects with a
 * `DeliveryError` otherwise; the dispatcher retries with backoff unless the error is permanent.
 */
export interface AlertChannel {
  kind: AlertChannelKind;
  /** Stable identity of this destination (kind plus a redacted URL or address), kept with each alert row. */
  id: string;
  send(event: WatchEvent, signal: AbortSignal): Promise<void>;
}

/** A channel could not deliver. `permanent`: retrying cannot help (HTTP 4xx except 408/429, SMTP 5xx). */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}
