import { createHash } from 'node:crypto';
import { createTransport } from 'nodemailer';
import { withDeadline } from '../core/deadline-signal.js';
import { UsageError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import { toolVersion } from '../core/version.js';
import { DeliveryError, type AlertChannel } from './alert-channel.js';
import { describeEvent, type EventDescription } from './describe-event.js';
import type { WatchEvent } from './watch-event.js';

export interface EmailChannelOptions {
  /** `smtp://[user:pass@]host[:port]` (STARTTLS when offered) or `smtps://…` (TLS from the start). */
  smtp: string;
  from: string;
  to: string[];
  /** For each SMTP step (connect, greeting, each reply); a whole attempt is capped at 3×. Default 10 s. */
  timeoutMs?: number;
}

/** The email channel holds a connection pool: `close()` it when the watcher stops. */
export type EmailChannel = AlertChannel & { close(): Promise<void> };

// One alert at a time per destination is the norm; two connections cover a burst of transitions.
const maxConnections = 2;
// A plain address, enough to catch a typo in a config file; the SMTP server has the last word.
const plainAddress = /^[^\s@<>",;]+@[^\s@<>",;]+$/;
// RFC 5322 dot-atom-text, restricted to what ids we generate look like.
const messageIdSafe = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * `<event.id@leakwatch>`: the same event always yields the same Message-ID, so a retry after a lost
 * reply is recognisably the same message to mail clients and to whoever reads the logs. An id that
 * is not a valid dot-atom is replaced by its SHA-256, still deterministic.
 */
export function eventMessageId(event: WatchEvent): string {
  const left =
    event.id.length <= 200 && messageIdSafe.test(event.id)
      ? event.id
      : createHash('sha256').update(event.id).digest('hex');
  return `<${left}@leakwatch>`;
}

/** The HTML alternative: the same lines as the text body, every interpolated string escaped. */
export function emailHtml(description: EventDescription): string {
  const rows = description.lines.map((line) => {
    const colon = line.indexOf(': ');
    if (colon < 0) return `<tr><td colspan="2">${escapeHtml(line)}</td></tr>`;
    const label = escapeHtml(line.slice(0, colon));
    const value = escapeHtml(line.slice(colon + 2));
    return `<tr><th align="left" valign="top" style="padding-right:1em">${label}</th><td>${value}</td></tr>`;
  });
  return [
    '<!doctype html>',
    '<html><body style="font-family:sans-serif">',
    `<h2>${escapeHtml(description.subject)}</h2>`,
    `<table>${rows.join('')}</table>`,
    `<p style="color:#666">Sent by leakwatch ${escapeHtml(toolVersion)}.</p>`,
    '</body></html>',
  ].join('\n');
}

interface SmtpFailure {
  message?: string;
  code?: string;
  responseCode?: number;
  rejectedErrors?: { responseCode?: number }[];
}

function isSmtpFailure(error: unknown): error is SmtpFailure {
  return typeof error === 'object' && error !== null;
}

/**
 * RFC 5321 §4.2.1: 5yz replies are permanent, 4yz transient. 503 ("bad sequence of commands") is a
 * 5yz that says the session was in the wrong state, not that the message was refused, so a new
 * connection can succeed: treated as transient, as nodemailer's `isPermanentResponseCode` does.
 */
function isPermanentCode(code: number | undefined): boolean {
  return code !== undefined && code >= 500 && code <= 599 && code !== 503;
}

function toDeliveryError(error: unknown, where: string): DeliveryError {
  const failure: SmtpFailure = isSmtpFailure(error) ? error : {};
  // Several recipients refused: retrying helps unless every refusal was permanent.
  const codes = failure.rejectedErrors?.length
    ? failure.rejectedErrors.map((rejected) => rejected.responseCode)
    : [failure.responseCode];
  const permanent = codes.every(isPermanentCode);
  const reason = sanitizeText(failure.message ?? String(error), 300);
  const result = new DeliveryError(`${where}: ${reason}`, permanent);
  result.cause = error;
  return result;
}

function parseSmtpUrl(smtp: string): URL {
  let url: URL;
  try {
    url = new URL(smtp);
  } catch (cause) {
    throw new UsageError('SMTP URL is not a URL (expected smtp://host:port or smtps://host:port)', { cause });
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new UsageError(`SMTP URL must be smtp:// or smtps://, not ${sanitizeText(url.protocol)}`);
  }
  if (url.hostname === '') throw new UsageError('SMTP URL names no host');
  return url;
}

function checkAddress(address: string, what: string): void {
  if (!plainAddress.test(address)) {
    throw new UsageError(
      `${what} address ${JSON.stringify(sanitizeText(address, 100))} is not an email address`,
    );
  }
}

/**
 * Alert emails through an SMTP relay: plain text from `describeEvent` plus an escaped HTML version.
 * SMTP 4xx, 503 and connection failures reject with a transient `DeliveryError`, other 5xx with a
 * permanent one. When some recipients accept and others refuse transiently, the attempt fails so
 * the dispatcher retries; the deterministic Message-ID marks the copy the others get as a repeat.
 */
export function createEmailChannel(options: EmailChannelOptions): EmailChannel {
  const url = parseSmtpUrl(options.smtp);
  checkAddress(options.from, 'from');
  if (options.to.length === 0) throw new UsageError('email channel needs at least one "to" address');
  for (const address of options.to) checkAddress(address, 'to');
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError(`SMTP timeout must be a positive number of milliseconds, not ${timeoutMs}`);
  }

  const where = `${url.protocol}//${url.host}`;
  const transport = createTransport({
    url: options.smtp,
    pool: true,
    maxConnections,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    // A closed pooled connection requeues its message; once is enough before the dispatcher decides.
    maxRequeues: 1,
  });

  return {
    kind: 'email',
    id: `email:${options.to.join(',')} via ${where}`,

    async send(event: WatchEvent, signal: AbortSignal): Promise<void> {
      const description = describeEvent(event);
      const sending = transport.sendMail({
        from: options.from,
        to: options.to,
        subject: description.subject,
        text: `${description.lines.join('\n')}\n`,
        html: emailHtml(description),
        messageId: eventMessageId(event),
        headers: {
          // RFC 3834: no vacation replies to an alert.
          'Auto-Submitted': 'auto-generated',
          'X-Leakwatch-Event-Id': sanitizeText(event.id, 200),
          'X-Leakwatch-Event-Kind': event.kind,
        },
      });
      // The pool cannot cancel a message in flight: if the race below gives up, a late failure must
      // not surface as an unhandled rejection.
      sending.catch(() => undefined);

      const deadline = withDeadline(signal, 3 * timeoutMs).signal;
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = (): void => {
          const reason = signal.aborted ? 'sending aborted' : `no answer within ${3 * timeoutMs} ms`;
          reject(new DeliveryError(`${where}: ${reason}`, false));
        };
        if (deadline.aborted) onAbort();
        else deadline.addEventListener('abort', onAbort, { once: true });
      });

      try {
        const info = await Promise.race([sending, aborted]);
        const refused = info.rejectedErrors ?? [];
        if (refused.length > 0 && !refused.every((error) => isPermanentCode(error.responseCode))) {
          throw toDeliveryError(
            { message: `refused ${info.rejected.join(', ')}`, rejectedErrors: refused },
            where,
          );
        }
      } catch (error) {
        if (error instanceof DeliveryError) throw error;
        throw toDeliveryError(error, where);
      } finally {
        if (onAbort) deadline.removeEventListener('abort', onAbort);
      }
    },

    close(): Promise<void> {
      transport.close();
      return Promise.resolve();
    },
  };
}
