/**
 * A webhook receiver for tests: a node:http server on a free 127.0.0.1 port that records every
 * request and checks Standard Webhooks signatures with its OWN code (below), written from the spec
 * (https://www.standardwebhooks.com/) rather than imported from src/, so a shared mistake cannot
 * make both sides agree.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { freePort } from './free-port.js';

export interface ReceivedRequest {
  /** 1-based arrival order. */
  n: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  json: unknown;
  /** With a secret: whether `webhook-signature` verifies over id, timestamp and the raw body. */
  signatureValid?: boolean;
  /** The status answered, or 'hang' when the request got no answer. */
  answered: number | 'hang';
}

export interface WebhookReceiverOptions {
  /** `whsec_<base64>` or bare base64: enables the signature check. */
  secret?: string;
  /** Status for the n-th request (1-based, with its parsed body); 'hang' never answers. Default 204. */
  respond?: (n: number, json: unknown) => number | 'hang';
  /** Extra answer headers (e.g. Retry-After) and body for the n-th request. */
  answer?: (n: number, json: unknown) => { headers?: Record<string, string>; body?: string } | undefined;
  /** Waits this long before answering each request (a slow application). */
  delayMs?: number;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Resolves once `n` requests arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  stop(): Promise<void>;
}

const maxBodyBytes = 1024 * 1024;

/** The receiver's independent check: HMAC-SHA256 keyed by the base64-decoded secret. */
function checkSignature(secret: string, headers: IncomingHttpHeaders, body: Buffer): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signature = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signedContent = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), body]);
  const expected = createHmac('sha256', key).update(signedContent).digest();
  return signature.split(' ').some((candidate) => {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || value === undefined) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const waiters: (() => void)[] = [];
  let count = 0;

  const server = createServer((req, res) => {
    const n = ++count;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = raw.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const answer = options.respond?.(n, json) ?? 204;
      const record: ReceivedRequest = {
        n,
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        json,
        answered: answer,
      };
      if (options.secret !== undefined)
        record.signatureValid = checkSignature(options.secret, req.headers, raw);
      requests.push(record);
      for (const wake of waiters.splice(0)) wake();
      if (answer === 'hang') return;
      const extra = options.answer?.(n, json);
      const reply = (): void => {
        res.writeHead(answer, { 'content-type': 'text/plain', ...extra?.headers });
        res.end(extra?.body ?? (answer >= 200 && answer < 300 ? '' : `status ${answer} as asked`));
      };
      if (options.delayMs === undefined) reply();
      else setTimeout(reply, options.delayMs);
    });
  });

  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve();
    });
  });

  return {
    url: `http://127.0.0.1:${port}/hooks/leakwatch`,
    port,
    requests,
    async waitFor(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < n) {
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`webhook receiver got ${requests.length} of ${n} requests in ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return requests.slice(0, n);
    },
    stop() {
      return new Promise<void>((resolve) => {
        // Hanging requests would keep close() waiting forever.
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
