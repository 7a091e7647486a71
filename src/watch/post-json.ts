import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { withDeadline } from '../core/deadline-signal.js';
import { UsageError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import { toolVersion } from '../core/version.js';
import { DeliveryError } from './alert-channel.js';

export interface PostJsonOptions {
  body: string;
  headers?: Record<string, string>;
  /** The dispatcher's signal (shutdown); the request also ends after `timeoutMs`. */
  signal: AbortSignal;
  timeoutMs: number;
}

// A receiver only needs to say yes or no; past this its answer is not worth reading.
const maxResponseBytes = 64 * 1024;
// Headers past this are a broken receiver, not a webhook endpoint.
const maxHeaderBytes = 16 * 1024;

/** Parses an alert destination URL; only http(s) is accepted, at configuration time. */
export function parseHttpUrl(url: string, what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new UsageError(`${what} URL is not a URL: ${sanitizeText(redactUrl(url))}`, { cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`${what} URL must be http:// or https://, not ${sanitizeText(parsed.protocol)}`);
  }
  return parsed;
}

/** The URL without userinfo, query or fragment: those may hold tokens and must not reach alert rows. */
export function redactUrl(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Whether an HTTP status is worth retrying: 408 and 429 say "later", 5xx says the receiver broke.
 * Every other non-2xx (4xx, and 3xx since a redirect is not followed) means the configuration is
 * wrong, which retrying cannot fix.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

function deliveryError(message: string, permanent: boolean, cause?: unknown): DeliveryError {
  const error = new DeliveryError(message, permanent);
  if (cause !== undefined) error.cause = cause;
  return error;
}

/** What a receiver answered: its status, headers, and the start of its body (capped). */
export interface JsonAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** At most 64 KiB, decoded as UTF-8; not sanitised. */
  body: string;
}

/**
 * POSTs a JSON body and resolves with whatever status the receiver answered. Rejects with a
 * non-permanent `DeliveryError` for network errors and timeouts. Redirects are not followed (a
 * signed body must not travel to a place the user did not configure).
 */
export function exchangeJson(url: URL, options: PostJsonOptions): Promise<JsonAnswer> {
  const target = redactUrl(url);
  const { signal, deadline: timeout } = withDeadline(options.signal, options.timeoutMs);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = Buffer.from(options.body, 'utf8');

  return new Promise<JsonAnswer>((resolve, reject) => {
    let settled = false;
    const fail = (error: DeliveryError): void => {
      if (settled) return;
      settled = true;
      reject(error);
    };

    const req = send(url, {
      method: 'POST',
      signal,
      agent: false,
      maxHeaderSize: maxHeaderBytes,
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': `leakwatch/${toolVersion}`,
        accept: '*/*',
        ...options.headers,
      },
    });

    req.on('error', (cause) => {
      if (timeout.aborted) {
        fail(deliveryError(`${target}: no answer within ${options.timeoutMs} ms`, false, cause));
      } else if (options.signal.aborted) {
        fail(deliveryError(`${target}: sending aborted`, false, cause));
      } else {
        fail(deliveryError(`${target}: ${sanitizeText(cause.message)}`, false, cause));
      }
    });

    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        resolve({ status, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      };
      res.on('data', (chunk: Buffer) => {
        const room = maxResponseBytes - size;
        if (chunk.length >= room) {
          chunks.push(chunk.subarray(0, room));
          size = maxResponseBytes;
          // Enough of it: the status already decided the outcome.
          finish();
          res.destroy();
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', (cause) => {
        // The status line arrived; a body cut short does not change what the receiver decided.
        if (status !== 0) finish();
        else fail(deliveryError(`${target}: ${sanitizeText(cause.message)}`, false, cause));
      });
    });

    req.end(body);
  });
}

/**
 * POSTs a JSON body and resolves on a 2xx answer. Rejects with `DeliveryError`: non-permanent for
 * 408, 429, 5xx, network errors and timeouts; permanent for every other status.
 */
export async function postJson(url: URL, options: PostJsonOptions): Promise<void> {
  const { status, body } = await exchangeJson(url, options);
  if (status >= 200 && status <= 299) return;
  const answer = sanitizeText(body, 160);
  const message = `${redactUrl(url)} answered HTTP ${status}${answer === '' ? '' : `: ${answer}`}`;
  throw deliveryError(message, !isRetryableStatus(status));
}
