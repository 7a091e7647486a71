/**
 * Webhook alerts signed as Standard Webhooks define it (https://www.standardwebhooks.com/, spec
 * v1.0.0, "Signature scheme"): headers `webhook-id`, `webhook-timestamp` (unix seconds) and
 * `webhook-signature` = space-separated `v1,<base64 HMAC-SHA256>` over `${id}.${timestamp}.${body}`,
 * keyed by the base64 part of a `whsec_…` secret. Receivers deduplicate on `webhook-id` (our
 * `event.id`, stable across retries) and reject stale timestamps to stop replays.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../core/errors.js';
import { DeliveryError, type AlertChannel } from './alert-channel.js';
import { parseHttpUrl, postJson, redactUrl } from './post-json.js';
import type { WatchEvent } from './watch-event.js';

export interface WebhookChannelOptions {
  url: string;
  /** `whsec_<base64>`, or the bare base64 key. */
  secret: string;
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
}

/** Request headers as Node (`IncomingHttpHeaders`) or fetch (`Headers`) hand them over. */
export type WebhookHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

const secretPrefix = 'whsec_';
// The spec asks for keys of 24 to 64 random bytes; shorter ones are too easy to guess offline.
const minKeyBytes = 24;
const maxKeyBytes = 64;
const strictBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// A header value Node will send as is: visible ASCII, so an id can never split a header.
const headerSafe = /^[\x21-\x7e]{1,256}$/;

/** The HMAC key of a `whsec_` secret (or bare base64); `UsageError` when it is not one. */
export function decodeWebhookSecret(secret: string): Buffer {
  const encoded = secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret;
  if (encoded === '' || !strictBase64.test(encoded)) {
    throw new UsageError('webhook secret must be "whsec_" followed by base64 (or the bare base64 key)');
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < minKeyBytes || key.length > maxKeyBytes) {
    throw new UsageError(
      `webhook secret must decode to ${minKeyBytes}–${maxKeyBytes} bytes, not ${key.length} (Standard Webhooks)`,
    );
  }
  return key;
}

function hmac(key: Buffer, id: string, timestamp: number | string, body: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The `webhook-signature` value (`v1,<base64>`) for one delivery. */
export function signWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: string | Uint8Array,
): string {
  return `v1,${hmac(decodeWebhookSecret(secret), id, timestamp, body).toString('base64')}`;
}

function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    return typeof value === 'string' ? value : value.join(' ');
  }
  return undefined;
}

/**
 * For receivers: whether `body` (the raw bytes, not re-serialised JSON) carries a valid signature
 * from `secret` and a timestamp within `toleranceSeconds` of now, either way. Any of several
 * space-separated `v1,` signatures may match (the spec allows them during key rotation).
 * Compares in constant time. Throws `UsageError` only for an invalid secret.
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: string | Uint8Array,
  toleranceSeconds = 300,
): boolean {
  const key = decodeWebhookSecret(secret);
  const id = headerValue(headers, 'webhook-id');
  const timestamp = headerValue(headers, 'webhook-timestamp');
  const signatures = headerValue(headers, 'webhook-signature');
  if (id === undefined || timestamp === undefined || signatures === undefined) return false;
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  const age = Math.abs(Date.now() / 1000 - Number(timestamp));
  if (age > toleranceSeconds) return false;

  const expected = hmac(key, id, timestamp, body);
  let valid = false;
  for (const entry of signatures.split(' ')) {
    if (!entry.startsWith('v1,')) continue;
    const given = Buffer.from(entry.slice(3), 'base64');
    // No early exit: every candidate is compared so timing says nothing about which one matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
  }
  return valid;
}

/** A Standard Webhooks destination. The body is the `WatchEvent` as JSON, verbatim. */
export function createWebhookChannel(options: WebhookChannelOptions): AlertChannel {
  const url = parseHttpUrl(options.url, 'webhook');
  const key = decodeWebhookSecret(options.secret);
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError(`webhook timeout must be a positive number of milliseconds, not ${timeoutMs}`);
  }

  return {
    kind: 'webhook',
    id: `webhook:${redactUrl(url)}`,
    async send(event: WatchEvent, signal: AbortSignal): Promise<void> {
      if (!headerSafe.test(event.id)) {
        throw new DeliveryError(`event id ${JSON.stringify(event.id)} cannot be a webhook-id header`, true);
      }
      const body = JSON.stringify(event);
      // Taken per attempt: a retry an hour later must not look like a replay to the receiver.
      const timestamp = Math.floor(Date.now() / 1000);
      await postJson(url, {
        body,
        signal,
        timeoutMs,
        headers: {
          'webhook-id': event.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': `v1,${hmac(key, event.id, timestamp, body).toString('base64')}`,
        },
      });
    },
  };
}
