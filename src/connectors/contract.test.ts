import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Protocol } from '../core/protocol.js';
import { probeStatuses, type ProbeStatus } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult } from './connector.js';
import { connectors } from './registry.js';

/*
 * The contract every connector keeps, whatever its protocol: expected outcomes are values, every
 * wait ends with the target's deadline, and hostile bytes never make a store "open". Iterating the
 * registry means a new connector is held to it without anyone adding a line here.
 */

const timeoutMs = 1500;
// The probe's own deadline plus 1 s for teardown; past that the connector ignored its signal.
const deadlineMs = timeoutMs + 1000;

interface TestServer {
  port: number;
  stop(): Promise<void>;
}

async function listen(server: Server): Promise<TestServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return {
    port: address.port,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}

// Deterministic noise (xorshift32), so a failure reproduces with the same bytes.
function garbage(length: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function context(): ProbeContext {
  return {
    signal: AbortSignal.timeout(timeoutMs),
    timeoutMs,
    maxBytes: 1024 * 1024,
    checkScope: (host) =>
      host === '127.0.0.1'
        ? Promise.resolve()
        : Promise.reject(new Error(`${host} is outside the test's scope`)),
  };
}

/** Probes 127.0.0.1:port; fails the test if the promise rejects or outlives the deadline. */
async function probe(connector: Connector, protocol: Protocol, port: number): Promise<ProbeResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`probe still running after ${deadlineMs} ms`));
    }, deadlineMs);
  });
  try {
    const result = await Promise.race([
      connector.probe({ protocol, host: '127.0.0.1', port }, context()),
      late,
    ]);
    expect(performance.now() - started).toBeLessThanOrEqual(deadlineMs);
    expectWellFormed(result);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

function expectWellFormed(result: ProbeResult): void {
  expect(probeStatuses as readonly ProbeStatus[]).toContain(result.status);
  expect(result.detail.trim()).not.toBe('');
  expect(result.detail.length).toBeLessThanOrEqual(300);
  // eslint-disable-next-line no-control-regex
  expect(result.detail).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
}

let refusedPort = 0;
let silent: TestServer;
let noisy: TestServer;

beforeAll(async () => {
  // A port that just had a listener and now has none: the kernel answers with RST at once.
  const closed = await listen(createServer());
  refusedPort = closed.port;
  await closed.stop();
  silent = await listen(createServer());
  const noise = garbage(4096);
  // Greets with noise (for protocols where the server speaks first) and answers every write with it.
  noisy = await listen(
    createServer((socket) => {
      socket.write(noise);
      socket.on('data', () => {
        if (!socket.destroyed) socket.write(noise);
      });
    }),
  );
});

afterAll(async () => {
  await Promise.all([silent.stop(), noisy.stop()]);
});

const registered = (Object.keys(connectors) as Protocol[]).map((protocol) => ({
  protocol,
  connector: connectors[protocol],
}));

describe.each(registered)('connector contract: $protocol', ({ protocol, connector }) => {
  it('has default ports in 1..65535', () => {
    expect(connector.defaultPorts.length).toBeGreaterThan(0);
    for (const port of connector.defaultPorts) {
      expect(Number.isInteger(port)).toBe(true);
      expect(port).toBeGreaterThanOrEqual(1);
      expect(port).toBeLessThanOrEqual(65535);
    }
  });

  it('reports a refused port as unreachable', async () => {
    const result = await probe(connector, protocol, refusedPort);
    expect(result.status, result.detail).toBe('unreachable');
  });

  it('ends with error (or other-protocol) when the server never answers', async () => {
    const result = await probe(connector, protocol, silent.port);
    expect(['error', 'other-protocol'], result.detail).toContain(result.status);
  });

  it('is not open when the server answers binary garbage', async () => {
    const result = await probe(connector, protocol, noisy.port);
    expect(result.status, result.detail).not.toBe('open');
    expect(result.status, result.detail).not.toBe('unreachable');
  });
});
