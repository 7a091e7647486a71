import { createServer as createTcpServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.js';
import { toolVersion } from '../core/version.js';
import { parseListenAddress, startMetricsServer, type MetricsServer } from './metrics-server.js';
import { WatchMetrics } from './watch-metrics.js';

const started: MetricsServer[] = [];
const blockers: Server[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
  await Promise.all(
    blockers.splice(0).map(
      (b) =>
        new Promise<void>((resolve) => {
          b.close(() => {
            resolve();
          });
        }),
    ),
  );
});

async function start(listen = '127.0.0.1:0'): Promise<MetricsServer> {
  const server = await startMetricsServer({ listen, metrics: new WatchMetrics({ defaultMetrics: false }) });
  started.push(server);
  return server;
}

function get(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
}

/** Whether ::1 can be bound here; some containers have no IPv6 loopback. */
function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createTcpServer();
    probe.once('error', () => {
      resolve(false);
    });
    probe.listen(0, '::1', () => {
      probe.close(() => {
        resolve(true);
      });
    });
  });
}

describe('parseListenAddress', () => {
  it.each([
    ['127.0.0.1:9464', '127.0.0.1', 9464],
    [':9464', '127.0.0.1', 9464],
    ['9464', '127.0.0.1', 9464],
    ['[::1]:9464', '::1', 9464],
    ['[::]:0', '::', 0],
    ['0.0.0.0:80', '0.0.0.0', 80],
    ['localhost:65535', 'localhost', 65535],
    ['metrics.internal.example:9464', 'metrics.internal.example', 9464],
    ['  127.0.0.1:1  ', '127.0.0.1', 1],
  ])('%j -> %s port %d', (text, host, port) => {
    expect(parseListenAddress(text)).toEqual({ host, port });
  });

  it.each([
    ['', /is empty/],
    ['127.0.0.1', /port is missing/],
    ['127.0.0.1:', /port is missing/],
    ['127.0.0.1:70000', /above 65535/],
    ['127.0.0.1:123456', /"123456" is not a port/],
    ['127.0.0.1:http', /"http" is not a port/],
    ['127.0.0.1:-1', /"-1" is not a port/],
    ['::1:9464', /must be written in brackets/],
    ['[::1]9464', /port is missing after "\]"/],
    ['[::1:9464', /lacks its closing/],
    ['[127.0.0.1]:9464', /not an IPv6 address/],
    ['bad host:9464', /"bad host" is not a host name/],
    ['http://127.0.0.1:9464', /must be written in brackets|not a host name/],
  ])('rejects %j', (text, why) => {
    expect(() => parseListenAddress(text)).toThrow(UsageError);
    expect(() => parseListenAddress(text)).toThrow(why);
    expect(() => parseListenAddress(text)).toThrow(/expected HOST:PORT/);
  });
});

describe('startMetricsServer over loopback', () => {
  it('serves the registry at /metrics with the exposition content type', async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);

    const response = await get(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const body = await response.text();
    expect(body).toContain(`leakwatch_build_info{version="${toolVersion}"} 1\n`);
    expect(body).toContain('leakwatch_stores{state="open"} 0\n');

    // A query string does not change the route (Prometheus may add one).
    expect((await get(`${server.url}?x=1`)).status).toBe(200);
  });

  it('answers / and /healthz with ok, 404 elsewhere, 405 for other methods', async () => {
    const server = await start();
    const base = `http://127.0.0.1:${server.port}`;
    for (const path of ['/', '/healthz']) {
      const response = await get(base + path);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('ok\n');
    }

    const missing = await get(`${base}/metrics/extra`);
    expect(missing.status).toBe(404);
    await missing.body?.cancel();

    for (const method of ['POST', 'PUT', 'DELETE']) {
      const response = await get(server.url, { method, body: method === 'DELETE' ? null : 'x' });
      expect(response.status, method).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
      await response.body?.cancel();
    }
  });

  it('answers HEAD with headers and no body', async () => {
    const server = await start();
    const response = await get(server.url, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(Number(response.headers.get('content-length'))).toBeGreaterThan(0);
    expect(await response.text()).toBe('');
  });

  it('binds 127.0.0.1 when only a port is given', async () => {
    const server = await start(':0');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
    expect((await get(server.url)).status).toBe(200);
  });

  it('binds the IPv6 loopback in brackets', async (context) => {
    if (!(await ipv6Loopback())) {
      context.skip();
      return;
    }
    const server = await start('[::1]:0');
    expect(server.url).toBe(`http://[::1]:${server.port}/metrics`);
    expect((await get(server.url)).status).toBe(200);
  });

  it('rejects with a UsageError naming the busy address', async () => {
    const blocker = createTcpServer();
    blockers.push(blocker);
    const port = await new Promise<number>((resolve) => {
      blocker.listen(0, '127.0.0.1', () => {
        const address = blocker.address();
        resolve(address !== null && typeof address === 'object' ? address.port : 0);
      });
    });

    const attempt = startMetricsServer({
      listen: `127.0.0.1:${port}`,
      metrics: new WatchMetrics({ defaultMetrics: false }),
    });
    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(
      `cannot serve metrics on 127.0.0.1:${port}: the address is already in use`,
    );
    await expect(attempt).rejects.toMatchObject({ cause: { code: 'EADDRINUSE' } });
  });

  it('refuses a non-loopback bind, since /metrics has no authentication (DESIGN.md invariant 7)', async () => {
    // Rejected before any socket is opened, so no packet leaves loopback.
    for (const listen of ['0.0.0.0:0', '[::]:0', 'example.com:9464', '10.0.0.1:9464']) {
      await expect(
        startMetricsServer({ listen, metrics: new WatchMetrics({ defaultMetrics: false }) }),
      ).rejects.toThrow(/refusing to serve unauthenticated \/metrics/);
    }
  });

  it('rejects a bad listen address before opening anything', async () => {
    await expect(
      startMetricsServer({ listen: 'nope', metrics: new WatchMetrics({ defaultMetrics: false }) }),
    ).rejects.toThrow(UsageError);
  });

  it('close() ends idle keep-alive connections at once and frees the port', async () => {
    const server = await start();
    // fetch keeps the connection alive; without closeIdleConnections close() would wait for the keep-alive timeout.
    const response = await get(server.url);
    await response.text();
    expect(response.headers.get('connection')).not.toBe('close');

    const before = Date.now();
    await server.close();
    expect(Date.now() - before).toBeLessThan(1_000);
    await server.close(); // idempotent

    await expect(get(server.url)).rejects.toThrow();
    // The same port can be bound again.
    const again = await start(`127.0.0.1:${server.port}`);
    expect(again.port).toBe(server.port);
  });

  it('answers 500 when a collector fails, and keeps serving', async () => {
    const metrics = new WatchMetrics({ defaultMetrics: false });
    const server = await startMetricsServer({ listen: '127.0.0.1:0', metrics });
    started.push(server);
    const { Gauge } = await import('prom-client');
    let fail = true;
    new Gauge({
      name: 'test_flaky',
      help: 'fails on demand',
      registers: [metrics.registry],
      collect() {
        if (fail) throw new Error('collector broke');
        this.set(1);
      },
    });

    const broken = await get(server.url);
    expect(broken.status).toBe(500);
    expect(await broken.text()).toBe('metrics collection failed\n');

    fail = false;
    const fixed = await get(server.url);
    expect(fixed.status).toBe(200);
    expect(await fixed.text()).toContain('test_flaky 1\n');
  });
});
