/**
 * A real SMTP server (the `smtp-server` package, nodemailer's own) on a free 127.0.0.1 port that
 * accepts and keeps every message, for alert and notification-campaign tests. No TLS (STARTTLS is
 * not offered), authentication optional and any credentials accepted (recorded, so a test can see
 * them used). Failures can be injected per recipient at RCPT TO or after DATA.
 */
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { freePort } from './free-port.js';

/** An SMTP reply to inject. `at: 'data'` accepts the RCPT and refuses the message after DATA. */
export interface SmtpInjectedFailure {
  code: number;
  message: string;
  at?: 'rcpt' | 'data';
}

export interface SmtpSinkOptions {
  /**
   * Asked at every RCPT TO. `n` counts how often this recipient has been offered so far, this
   * time included (1 on the first attempt), so "fail bob's first two attempts" is `n <= 2`.
   */
  failWith?: (rcpt: string, n: number) => SmtpInjectedFailure | undefined;
  /** Bytes; a larger message is refused with 552. Default 10 MiB. */
  maxMessageBytes?: number;
  /**
   * `headers`: keep only each message's header (`raw` and `body` hold the header alone and ''), so
   * a campaign of 100,000 messages fits in memory. Default `all`.
   */
  keep?: 'all' | 'headers';
}

export interface SinkMessage {
  envelope: { from: string; to: string[] };
  /** The whole message as received (dot-unstuffed). */
  raw: string;
  /** Header fields by lower-case name, unfolded and with RFC 2047 encoded words decoded. */
  headers: Record<string, string[]>;
  /** First value of a header field, by any-case name. */
  header(name: string): string | undefined;
  subject: string | undefined;
  messageId: string | undefined;
  /** Everything after the blank line that ends the header (still MIME-encoded). */
  body: string;
  /** Username of AUTH, when the client authenticated. */
  user?: string;
}

export interface SmtpRefusal {
  rcpt: string;
  code: number;
  at: 'rcpt' | 'data';
}

export interface SmtpSink {
  url: string;
  port: number;
  messages: SinkMessage[];
  /** Every injected failure that was answered, in order. */
  refusals: SmtpRefusal[];
  /** Resolves once `n` messages were accepted; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<SinkMessage[]>;
  stop(): Promise<void>;
}

/** RFC 2047 encoded words in UTF-8, US-ASCII or Latin-1; enough for what nodemailer writes. */
function decodeEncodedWords(value: string): string {
  const joined = value.replace(/(=\?[^?]+\?[bBqQ]\?[^?]*\?=)\s+(?==\?)/g, '$1');
  return joined.replace(
    /=\?([^?*]+)(?:\*[^?]*)?\?([bBqQ])\?([^?]*)\?=/g,
    (word, charset: string, mode: string, text: string) => {
      const encoding = /^(utf-?8|us-ascii)$/i.test(charset)
        ? 'utf8'
        : /^iso-8859-1$/i.test(charset)
          ? 'latin1'
          : undefined;
      if (encoding === undefined) return word;
      const bytes =
        mode.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : Buffer.from(
              text
                .replace(/_/g, ' ')
                .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
              'latin1',
            );
      return bytes.toString(encoding);
    },
  );
}

/** Splits a message into header fields (RFC 5322 §2.2: unfold by removing CRLF before WSP) and body. */
export function parseMessage(raw: string): { headers: Record<string, string[]>; body: string } {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end < 0 ? raw : raw.slice(0, end);
  const body = end < 0 ? '' : raw.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string[]> = {};
  for (const line of head.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = decodeEncodedWords(line.slice(colon + 1).trim());
    (headers[name] ??= []).push(value);
  }
  return { headers, body };
}

function smtpError(failure: SmtpInjectedFailure): Error & { responseCode: number } {
  return Object.assign(new Error(failure.message), { responseCode: failure.code });
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  const refusals: SmtpRefusal[] = [];
  const waiters: (() => void)[] = [];
  const offered = new Map<string, number>();
  // Failures to answer after DATA, per connection and transaction.
  const dataFailures = new Map<string, { rcpt: string; failure: SmtpInjectedFailure }>();
  const transactionKey = (session: SMTPServerSession): string => `${session.id}:${session.transaction}`;
  const maxBytes = options.maxMessageBytes ?? 10 * 1024 * 1024;

  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    // A reverse lookup of 127.0.0.1 would ask the system resolver: no packet may leave loopback.
    disableReverseLookup: true,
    logger: false,
    name: 'smtp-sink.test',
    size: maxBytes,
    closeTimeout: 1000,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? '' });
    },
    onRcptTo(address, session, callback) {
      const rcpt = address.address;
      const n = (offered.get(rcpt) ?? 0) + 1;
      offered.set(rcpt, n);
      const failure = options.failWith?.(rcpt, n);
      if (failure === undefined) {
        callback();
      } else if (failure.at === 'data') {
        if (!dataFailures.has(transactionKey(session)))
          dataFailures.set(transactionKey(session), { rcpt, failure });
        callback();
      } else {
        refusals.push({ rcpt, code: failure.code, at: 'rcpt' });
        callback(smtpError(failure));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      const headersOnly = options.keep === 'headers';
      let headerDone = false;
      stream.on('data', (chunk: Buffer) => {
        if (stream.sizeExceeded || headerDone) return;
        chunks.push(chunk);
        if (headersOnly && Buffer.concat(chunks).includes('\r\n\r\n')) headerDone = true;
      });
      stream.on('end', () => {
        const key = transactionKey(session);
        const injected = dataFailures.get(key);
        dataFailures.delete(key);
        if (stream.sizeExceeded) {
          callback(smtpError({ code: 552, message: 'message exceeds the sink size limit' }));
          return;
        }
        if (injected !== undefined) {
          refusals.push({ rcpt: injected.rcpt, code: injected.failure.code, at: 'data' });
          callback(smtpError(injected.failure));
          return;
        }
        let raw = Buffer.concat(chunks).toString('utf8');
        if (headersOnly) raw = raw.slice(0, raw.search(/\r?\n\r?\n/) + 1 || raw.length);
        const { headers, body } = parseMessage(raw);
        const mailFrom = session.envelope.mailFrom;
        const message: SinkMessage = {
          envelope: {
            from: mailFrom === false ? '' : mailFrom.address,
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          },
          raw,
          headers,
          header: (name) => headers[name.toLowerCase()]?.[0],
          subject: headers.subject?.[0],
          messageId: headers['message-id']?.[0],
          body,
        };
        if (typeof session.user === 'string' && session.user !== '') message.user = session.user;
        messages.push(message);
        for (const wake of waiters.splice(0)) wake();
        callback(null, `queued as ${messages.length}`);
      });
    },
  });
  // Client sockets that reset mid-session surface here; a test server must not crash on them.
  server.on('error', () => undefined);

  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve();
    });
  });

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    refusals,
    async waitFor(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < n) {
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`SMTP sink got ${messages.length} of ${n} messages in ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return messages.slice(0, n);
    },
    stop() {
      return new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
