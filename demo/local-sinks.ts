/**
 * The demo's receiving ends, on free 127.0.0.1 ports: a webhook receiver (the on-call alert hook
 * and the application's revocation hook) and an SMTP sink for the notification emails. They keep
 * counts and arrival times only: no body, address or identifier is kept or printed.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { SMTPServer } from 'smtp-server';
import { listenOnLoopback, stopWithConnections } from './loopback-server.js';

// A revocation batch holds at most 10,000 identifiers (revoke.ts maxBatchSize): well under this.
const maxBodyBytes = 8 * 1024 * 1024;

export interface ReceivedHook {
  path: string;
  at: number;
  /** `kind` of an alert, `action` of a revocation batch. */
  kind: string;
  store?: string;
  /** Identifiers in a revocation batch (counted, not kept). */
  subjects?: number;
}

export interface HookReceiver {
  url(path: string): string;
  hooks: ReceivedHook[];
  /** Resolves with the first hook that matches, or rejects after `timeoutMs`. */
  waitFor(match: (hook: ReceivedHook) => boolean, timeoutMs: number): Promise<ReceivedHook>;
  stop(): Promise<void>;
}

function summarize(path: string, body: string): ReceivedHook {
  const hook: ReceivedHook = { path, at: Date.now(), kind: 'unknown' };
  try {
    const json = JSON.parse(body) as {
      kind?: unknown;
      action?: unknown;
      store?: { name?: unknown };
      subjects?: unknown;
    };
    if (typeof json.kind === 'string') hook.kind = json.kind;
    if (typeof json.action === 'string') hook.kind = json.action;
    if (typeof json.store?.name === 'string') hook.store = json.store.name;
    if (Array.isArray(json.subjects)) hook.subjects = json.subjects.length;
  } catch {
    // Not JSON: counted as unknown.
  }
  return hook;
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        req.destroy();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', () => {
      resolve(undefined);
    });
  });
}

export async function startHookReceiver(): Promise<HookReceiver> {
  const hooks: ReceivedHook[] = [];
  const waiters = new Set<() => void>();
  let received = 0;
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      if (body === undefined || req.method !== 'POST') {
        res.writeHead(400).end();
        return;
      }
      hooks.push(summarize(req.url ?? '/', body));
      for (const wake of waiters) wake();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `rcpt-${++received}` }));
    });
  });
  const stop = stopWithConnections(server);
  const port = await listenOnLoopback(server, 'hook receiver');
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    hooks,
    async waitFor(match, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = hooks.find(match);
        if (found !== undefined) return found;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching webhook within ${Math.round(timeoutMs / 1000)} s`);
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, left);
          waiters.add(wake);
        });
      }
    },
    stop,
  };
}

export interface SmtpSink {
  url: string;
  /** Messages accepted. */
  readonly messages: number;
  stop(): Promise<void>;
}

/** An SMTP server that accepts and discards every message (no TLS, no authentication). */
export async function startSmtpSink(): Promise<SmtpSink> {
  let messages = 0;
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    // A reverse lookup of 127.0.0.1 would ask the system resolver: no packet may leave loopback.
    disableReverseLookup: true,
    logger: false,
    name: 'smtp-sink.demo',
    size: 1024 * 1024,
    closeTimeout: 1000,
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        messages++;
        callback(null, `queued as ${messages}`);
      });
    },
  });
  server.on('error', () => undefined);
  const port = await listenOnLoopback(server.server, 'SMTP sink');
  return {
    url: `smtp://127.0.0.1:${port}`,
    get messages() {
      return messages;
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
