import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { UsageError } from '../core/errors.js';
import type { WatchMetrics } from './watch-metrics.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * With no host the endpoint binds to loopback only: store names and states tell an outsider which
 * databases exist and which are open right now, so exposing them takes an explicit `0.0.0.0:PORT`.
 */
const defaultHost = '127.0.0.1';

// RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
const hostNamePattern =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Parses a `--metrics` listen address: `HOST:PORT`, `:PORT` (loopback), `[IPv6]:PORT` or a bare `PORT`.
 * Port 0 asks the system for a free port.
 */
export function parseListenAddress(text: string): ListenAddress {
  const input = text.trim();
  const fail = (why: string): never => {
    throw new UsageError(
      `invalid listen address "${text}": ${why} (expected HOST:PORT, :PORT or [IPv6]:PORT)`,
    );
  };
  if (input === '') fail('it is empty');

  let host: string;
  let portText: string;
  if (/^\d+$/.test(input)) {
    host = defaultHost;
    portText = input;
  } else if (input.startsWith('[')) {
    const end = input.indexOf(']');
    if (end < 0) fail('the IPv6 address lacks its closing "]"');
    host = input.slice(1, end);
    if (isIP(host) !== 6) fail(`"${host}" is not an IPv6 address`);
    if (input[end + 1] !== ':') fail('the port is missing after "]"');
    portText = input.slice(end + 2);
  } else {
    const colon = input.lastIndexOf(':');
    if (colon < 0) fail('the port is missing');
    host = input.slice(0, colon);
    portText = input.slice(colon + 1);
    if (host.includes(':')) fail('an IPv6 address must be written in brackets, e.g. [::1]:9464');
    if (host === '') host = defaultHost;
    else if (isIP(host) !== 4 && !hostNamePattern.test(host)) fail(`"${host}" is not a host name or address`);
  }

  if (!/^\d{1,5}$/.test(portText))
    fail(portText === '' ? 'the port is missing' : `"${portText}" is not a port`);
  const port = Number(portText);
  if (port > 65535) fail(`port ${port} is above 65535`);
  return { host, port };
}

export interface MetricsServerOptions {
  /** See `parseListenAddress`. */
  listen: string;
  metrics: WatchMetrics;
}

export interface MetricsServer {
  /** The scrape URL, with the port actually bound. */
  url: string;
  port: number;
  close(): Promise<void>;
}

// Scrapes are small and come from a nearby Prometheus; a client slower than this is stuck or hostile.
const requestTimeoutMs = 10_000;
const headersTimeoutMs = 5_000;
const keepAliveTimeoutMs = 5_000;
// How long close() lets an in-flight scrape finish before cutting its connection.
const closeGraceMs = 2_000;

/** Serves `GET /metrics` (the registry) and `GET /` or `/healthz` ("ok") over plain HTTP. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { host, port } = parseListenAddress(options.listen);
  const { metrics } = options;
  // DESIGN.md invariant 7: /metrics has no authentication and names the stores that are open.
  if (!isLoopbackHost(host)) {
    throw new UsageError(
      `refusing to serve unauthenticated /metrics on ${options.listen}: bind 127.0.0.1 or [::1] and let Prometheus reach it through a proxy or tunnel`,
    );
  }

  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: headersTimeoutMs,
      keepAliveTimeout: keepAliveTimeoutMs,
    },
    (req, res) => {
      handle(req, res, metrics).catch((error: unknown) => {
        // A collector threw: answer 500 rather than leave the scraper waiting for its timeout.
        if (!res.headersSent) {
          sendText(res, req, 500, 'metrics collection failed\n');
        } else {
          res.destroy(error instanceof Error ? error : undefined);
        }
      });
    },
  );

  const display = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new UsageError(listenFailure(display, error), { cause: error }));
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const address = server.address();
  const boundPort = address !== null && typeof address === 'object' ? address.port : port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${boundPort}/metrics`,
    port: boundPort,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        const cutOff = setTimeout(() => {
          server.closeAllConnections();
        }, closeGraceMs);
        cutOff.unref();
        server.close((error) => {
          clearTimeout(cutOff);
          if (error) reject(error);
          else resolve();
        });
        // server.close() only stops accepting; idle keep-alive sockets would hold it open until their timeout.
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

function listenFailure(display: string, error: NodeJS.ErrnoException): string {
  switch (error.code ?? '') {
    case 'EADDRINUSE':
      return `cannot serve metrics on ${display}: the address is already in use`;
    case 'EACCES':
      return `cannot serve metrics on ${display}: permission denied (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
      return `cannot serve metrics on ${display}: no local interface has that address`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot serve metrics on ${display}: the host name does not resolve`;
    default:
      return `cannot serve metrics on ${display}: ${error.message}`;
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, metrics: WatchMetrics): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendText(res, req, 405, 'method not allowed\n');
    return;
  }
  // Only the path matters; the base is a placeholder because request targets are relative.
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  switch (path) {
    case '/metrics': {
      const body = await metrics.render();
      send(res, req, 200, metrics.contentType, body);
      return;
    }
    case '/':
    case '/healthz':
      sendText(res, req, 200, 'ok\n');
      return;
    default:
      sendText(res, req, 404, 'not found\n');
  }
}

function sendText(res: ServerResponse, req: IncomingMessage, status: number, body: string): void {
  send(res, req, status, 'text/plain; charset=utf-8', body);
}

function send(
  res: ServerResponse,
  req: IncomingMessage,
  status: number,
  contentType: string,
  body: string,
): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(req.method === 'HEAD' ? undefined : body);
}
