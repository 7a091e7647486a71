import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqpConnector } from '../../src/connectors/amqp.js';
import type { ScanReport, TargetReport } from '../../src/core/scan-report.js';
import { runScan } from '../../src/scan/run-scan.js';
import { CollectingSink, probeContext } from '../collecting-sink.js';
import { startRabbitMq, type PrivateRabbitMq } from '../servers/rabbitmq-server.js';

const timeoutMs = 5000;
const password = 'alice-secret-7731';

async function scanOne(target: string): Promise<{ report: ScanReport; entry: TargetReport }> {
  const report = await runScan({ targets: [target], timeoutMs });
  expect(report.targets).toHaveLength(1);
  return { report, entry: report.targets[0]! };
}

// Seeded through the management API: queue → message payloads.
const seeded: Record<string, string[]> = {
  orders: Array.from({ length: 7 }, (_, i) => JSON.stringify({ order: i, email: `buyer${i}@example.test` })),
  'mail.outbox': ['hello', 'world', '!'],
  empty: [],
};
const totalMessages = 10;
const totalBytes = Object.values(seeded)
  .flat()
  .reduce((sum, payload) => sum + Buffer.byteLength(payload), 0);

interface QueueStats {
  name: string;
  messages?: number;
  message_stats?: Record<string, unknown>;
}

async function queues(rabbit: PrivateRabbitMq): Promise<QueueStats[]> {
  const { json } = await rabbit.api('GET', '/api/queues');
  return json as QueueStats[];
}

describe('amqp connector against Debian rabbitmq-server 3.10 (private instance)', () => {
  let rabbit: PrivateRabbitMq;

  beforeAll(async () => {
    rabbit = await startRabbitMq();
    // alice may use the management API (its `management` tag); bob may only speak AMQP.
    for (const [user, tags] of [
      ['alice', 'management'],
      ['bob', ''],
    ] as const) {
      await rabbit.api('PUT', `/api/users/${user}`, { password, tags });
      await rabbit.api('PUT', `/api/permissions/%2F/${user}`, { configure: '.*', write: '.*', read: '.*' });
    }
    for (const [queue, payloads] of Object.entries(seeded)) {
      const created = await rabbit.api('PUT', `/api/queues/%2F/${encodeURIComponent(queue)}`, {
        durable: false,
      });
      expect(created.status).toBe(201);
      for (const payload of payloads) {
        const published = await rabbit.api('POST', '/api/exchanges/%2F/amq.default/publish', {
          properties: {},
          routing_key: queue,
          payload,
          payload_encoding: 'string',
        });
        expect(published.json).toEqual({ routed: true });
      }
    }
    // Queue stats reach the management API on the statistics interval: wait until they show.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const list = await queues(rabbit);
      const counted = list.reduce((sum, q) => sum + (q.messages ?? 0), 0);
      if (list.length === 3 && list.every((q) => typeof q.messages === 'number') && counted === totalMessages)
        break;
      if (Date.now() > deadline) throw new Error(`queue stats never settled: ${JSON.stringify(list)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 90_000);

  afterAll(async () => {
    await rabbit.stop();
  }, 30_000);

  it('without credentials: auth-required, with product and version from Connection.Start', async () => {
    const target = `amqp://127.0.0.1:${rabbit.port}`;
    const { entry } = await scanOne(target);
    expect(entry).toMatchObject({ target, protocol: 'amqp', status: 'auth-required' });
    expect(entry.detail).toBe('AMQP needs credentials (mechanisms PLAIN AMQPLAIN); none named');
    expect(entry.server?.product).toBe('RabbitMQ');
    expect(entry.server?.version).toMatch(/^3\.10\.\d+$/);
    expect(entry.size).toBeUndefined();
  });

  it('with named credentials: open, exact messages per queue from the management API', async () => {
    const target = `amqp://alice:${password}@127.0.0.1:${rabbit.port}`;
    const { report, entry } = await scanOne(target);
    expect(entry).toMatchObject({ protocol: 'amqp', status: 'open' });
    expect(entry.server?.product).toBe('RabbitMQ');
    expect(entry.size).toEqual({ collections: 3, records: totalMessages, bytes: totalBytes });
    expect([...entry.collections].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: '//empty', records: 0, bytes: 0 },
      { name: '//mail.outbox', records: 3, bytes: 11 },
      { name: '//orders', records: 7, bytes: totalBytes - 11 },
    ]);
    expect(entry.detail).toContain(`management API on port ${rabbit.managementPort}`);
    expect(entry.detail).toContain('messages not sampled');
    expect(JSON.stringify(report)).not.toContain(password);
  });

  it('credentials the management API refuses: open, sizes left out rather than guessed', async () => {
    const { entry } = await scanOne(`amqp://bob:${password}@127.0.0.1:${rabbit.port}`);
    expect(entry).toMatchObject({ protocol: 'amqp', status: 'open', collections: [] });
    expect(entry.size).toBeUndefined();
    expect(entry.detail).toContain('queue sizes unknown');
  });

  it('guest/guest named over loopback is open on the default vhost', async () => {
    const { entry } = await scanOne(`amqp://guest:guest@127.0.0.1:${rabbit.port}/%2F`);
    expect(entry).toMatchObject({ status: 'open', size: { records: totalMessages } });
  });

  it('--try-default-credentials tries the guest account only when the user opted in', async () => {
    const target = `amqp://127.0.0.1:${rabbit.port}`;
    const report = await runScan({ targets: [target], timeoutMs, tryDefaultCredentials: true });
    expect(report.targets[0]).toMatchObject({ status: 'open', size: { records: totalMessages } });
    expect(report.targets[0]?.detail).toContain('AMQP login with the default guest account accepted');
    // Named credentials win over the default account, and a refusal says whose it was.
    const named = await runScan({
      targets: [`amqp://alice:wrong@127.0.0.1:${rabbit.port}`],
      timeoutMs,
      tryDefaultCredentials: true,
    });
    expect(named.targets[0]).toMatchObject({ status: 'auth-required' });
    expect(named.targets[0]?.detail).toContain('refused the named credentials');
  });

  it('a wrong password is auth-required, and the password is not in the report', async () => {
    const wrong = 'not-the-password-9911';
    const { report, entry } = await scanOne(`amqp://alice:${wrong}@127.0.0.1:${rabbit.port}`);
    expect(entry).toMatchObject({ protocol: 'amqp', status: 'auth-required' });
    expect(entry.detail).toContain('403');
    expect(JSON.stringify(report)).not.toContain(wrong);
  });

  it('a vhost the user may not open is auth-required', async () => {
    const { entry } = await scanOne(`amqp://alice:${password}@127.0.0.1:${rabbit.port}/no-such-vhost`);
    expect(entry).toMatchObject({ status: 'auth-required' });
    expect(entry.detail).toContain('530');
  });

  it('never consumes: counts unchanged, no get or deliver, nothing sampled even with a sampler', async () => {
    const sink = new CollectingSink(100);
    const result = await amqpConnector.probe(
      { protocol: 'amqp', host: '127.0.0.1', port: rabbit.port, username: 'alice', password },
      probeContext(sink),
    );
    expect(result.status).toBe('open');
    expect(sink.records.size).toBe(0);
    await new Promise((r) => setTimeout(r, 1200));
    for (const q of await queues(rabbit)) {
      expect(q.messages).toBe(seeded[q.name]!.length);
      for (const stat of ['get', 'get_no_ack', 'deliver', 'deliver_no_ack', 'redeliver', 'ack'])
        expect(q.message_stats?.[stat] ?? 0).toBe(0);
    }
  });

  it('a bare 127.0.0.1:PORT is detected as amqp', async () => {
    const { entry } = await scanOne(`127.0.0.1:${rabbit.port}`);
    expect(entry).toMatchObject({
      protocol: 'amqp',
      status: 'auth-required',
      server: { product: 'RabbitMQ' },
    });
  });
});

describe('amqp connector against peers that are not AMQP 0-9-1', () => {
  let server: Server;
  let port = 0;
  let answer = Buffer.alloc(0);

  beforeAll(async () => {
    server = createServer((socket) => {
      socket.once('data', () => {
        socket.end(answer);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('an AMQP 1.0 broker (it answers with its own protocol header) is other-protocol', async () => {
    // AMQP 1.0 section 2.2: "AMQP" 0 1 0 0 (SASL layer: protocol id 3).
    answer = Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0]);
    const result = await amqpConnector.probe({ protocol: 'amqp', host: '127.0.0.1', port }, probeContext());
    expect(result).toEqual({
      status: 'other-protocol',
      detail: 'answers with AMQP protocol header 3-1-0-0, not 0-9-1',
    });
  });

  it('an HTTP answer is other-protocol', async () => {
    answer = Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n');
    const result = await amqpConnector.probe({ protocol: 'amqp', host: '127.0.0.1', port }, probeContext());
    expect(result.status).toBe('other-protocol');
  });
});
