import { createTransport } from 'nodemailer';
import { UsageError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import type { NotificationContent } from './notification-message.js';

/** What one attempt to hand a message to the relay came to. */
export type SendOutcome =
  { kind: 'sent' } | { kind: 'transient'; error: string } | { kind: 'permanent'; error: string };

export interface OutgoingNotification extends NotificationContent {
  to: string;
  messageId: string;
  /** `INC-0001`, for the X-Leakwatch-Incident header. */
  ref: string;
}

export interface NotificationSender {
  send(message: OutgoingNotification): Promise<SendOutcome>;
  close(): void;
}

export interface SenderOptions {
  /** `smtp://[user:pass@]host[:port]` or `smtps://…`. */
  smtp: string;
  from: string;
  /** Pooled connections to the relay. */
  maxConnections?: number;
  /** For each SMTP step (connect, greeting, each reply); one message is given 3× in all. */
  timeoutMs?: number;
}

// A plain address, enough to catch a typo; the relay has the last word.
const plainAddress = /^[^\s@<>",;]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$/;

/** The domain of `--from`, the right-hand side of every Message-ID the campaign writes. */
export function fromDomain(from: string): string {
  const domain = plainAddress.exec(from.trim())?.[1];
  if (domain === undefined)
    throw new UsageError(
      `--from ${JSON.stringify(sanitizeText(from, 100))} is not an address like notices@example.com`,
    );
  return domain.toLowerCase();
}

export function parseSmtpUrl(smtp: string): URL {
  let url: URL;
  try {
    url = new URL(smtp);
  } catch (cause) {
    throw new UsageError('--smtp is not a URL (expected smtp://host:port or smtps://host:port)', { cause });
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw new UsageError(`--smtp must be smtp:// or smtps://, not ${sanitizeText(url.protocol)}`);
  if (url.hostname === '') throw new UsageError('--smtp names no host');
  return url;
}

interface SmtpFailure {
  message?: string;
  code?: string;
  responseCode?: number;
}

/**
 * RFC 5321 §4.2.1: 5yz is permanent, 4yz transient. 503 ("bad sequence") says the session was in
 * the wrong state, not that the message was refused; nodemailer also treats it as transient.
 * Anything without a reply code (refused connection, timeout, reset) is transient too.
 */
export function classifySmtpFailure(error: unknown): SendOutcome {
  const failure: SmtpFailure = typeof error === 'object' && error !== null ? error : {};
  const code = failure.responseCode;
  // Relay replies may quote the recipient ("550 <j@example.com>: no such user"): keep the code only.
  const text =
    code === undefined
      ? sanitizeText(`${failure.code ?? 'error'}: ${failure.message ?? String(error)}`, 200)
      : `SMTP ${code}`;
  const permanent = code !== undefined && code >= 500 && code <= 599 && code !== 503;
  return permanent ? { kind: 'permanent', error: text } : { kind: 'transient', error: text };
}

/** One pooled nodemailer transport for the whole campaign. */
export function createNotificationSender(options: SenderOptions): NotificationSender {
  parseSmtpUrl(options.smtp);
  fromDomain(options.from);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const transport = createTransport({
    url: options.smtp,
    pool: true,
    maxConnections: options.maxConnections ?? 4,
    // Reconnecting every 100 messages (the default) costs a handshake per 100; relays accept far more.
    maxMessages: 1000,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    maxRequeues: 1,
  });
  return {
    async send(message) {
      const sending = transport.sendMail({
        from: options.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
        headers: {
          // RFC 3834: no vacation replies to a notice sent to many.
          'Auto-Submitted': 'auto-generated',
          'X-Leakwatch-Incident': message.ref,
        },
      });
      // A message the pool still holds cannot be cancelled: a late failure must not go unhandled.
      sending.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<SendOutcome>((resolve) => {
        timer = setTimeout(() => {
          resolve({ kind: 'transient', error: `no answer within ${3 * timeoutMs} ms` });
        }, 3 * timeoutMs);
      });
      try {
        return await Promise.race([
          sending.then(
            (info): SendOutcome =>
              info.rejected.length === 0
                ? { kind: 'sent' }
                : classifySmtpFailure(info.rejectedErrors?.[0] ?? { message: 'recipient refused' }),
            classifySmtpFailure,
          ),
          deadline,
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      transport.close();
    },
  };
}
