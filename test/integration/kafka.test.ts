import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kafkaConnector } from '../../src/connectors/kafka.js';
import type { ProbeContext } from '../../src/connectors/connector.js';
import { runScan } from '../../src/scan/run-scan.js';
import { CollectingSink, probeContext } from '../collecting-sink.js';
import { startFakeKafka, type FakeKafka, type FakeTopic } from '../servers/fake-kafka.js';

const timeoutMs = 5000;

const customers = Array.from({ length: 25 }, (_, i) =>
  JSON.stringify({ name: `Customer ${i}`, email: `customer${i}@example.test` }),
);

// orders: 3 partitions (100 + 40 + 0 records, earliest offsets after retention);
// customers: 1 partition, 25 JSON records with emails; __consumer_offsets: internal, not counted.
const topics: FakeTopic[] = [
  {
    name: 'orders',
    partitions: [
      { earliest: 0, latest: 100 },
      { earliest: 60, latest: 100 },
      { earliest: 7, latest: 7 },
    ],
  },
  { name: 'customers', partitions: [{ earliest: 0, latest: 25, values: customers }], gzip: true },
  { name: '__consumer_offsets', internal: true, partitions: [{ earliest: 0, latest: 500 }] },
];

function scopedContext(seen: string[], sampler?: CollectingSink): ProbeContext {
  return {
    ...probeContext(sampler),
    checkScope: (host, port) => {
      seen.push(`${host}:${port}`);
      return host === '127.0.0.1'
        ? Promise.resolve()
        : Promise.reject(new Error(`${host} is outside the test's scope`));
    },
  };
}

describe('kafka connector against a protocol-faithful fake Kafka broker (no Kafka installable here)', () => {
  describe('open broker, two topics', () => {
    let kafka: FakeKafka;

    beforeAll(async () => {
      kafka = await startFakeKafka({ topics });
    });

    afterAll(async () => {
      await kafka.stop();
    });

    it('is open with exact records per topic, internal topics left out', async () => {
      const target = `kafka://127.0.0.1:${kafka.port}`;
      const report = await runScan({ targets: [target], timeoutMs });
      const entry = report.targets[0];
      expect(entry).toMatchObject({ target, protocol: 'kafka', status: 'open' });
      expect(entry?.server).toEqual({ product: 'kafka', version: '>= 2.8' });
      expect(entry?.size).toEqual({ collections: 2, records: 165 });
      expect(entry?.collections).toEqual([
        { name: 'orders', records: 140 },
        { name: 'customers', records: 25 },
      ]);
      expect(entry?.detail).toContain('1 internal topic not counted');
      expect(entry?.indicators).not.toContain('empty');
    });

    it('is found by auto-detect on a bare host:port', async () => {
      const report = await runScan({ targets: [`127.0.0.1:${kafka.port}`], timeoutMs });
      expect(report.targets[0]).toMatchObject({ protocol: 'kafka', status: 'open', size: { records: 165 } });
    });

    it('uses only read requests on one connection without a sampler: never a consumer group', async () => {
      const before = kafka.connections();
      const start = kafka.requests.length;
      const result = await kafkaConnector.probe(
        { protocol: 'kafka', host: '127.0.0.1', port: kafka.port },
        scopedContext([]),
      );
      expect(result.status).toBe('open');
      expect(kafka.connections() - before).toBe(1);
      // ApiVersions v0, Metadata v1, ListOffsets v1 (earliest, latest); no JoinGroup (11),
      // SyncGroup (14), OffsetCommit (8), Produce (0) or CreateTopics (19).
      expect(kafka.requests.slice(start)).toEqual(['18/0', '3/1', '2/1', '2/1']);
    });

    it('samples record values per topic through Fetch v4 (gzip batches too), capped by the limit', async () => {
      const sink = new CollectingSink(30);
      const start = kafka.requests.length;
      const result = await kafkaConnector.probe(
        { protocol: 'kafka', host: '127.0.0.1', port: kafka.port },
        scopedContext([], sink),
      );
      expect(result.status).toBe('open');
      expect(sink.records.get('customers')).toEqual(customers);
      const orders = sink.records.get('orders') ?? [];
      // 30 of orders: partition 0 from offset 0 (its first 30 records).
      expect(orders).toHaveLength(30);
      expect(orders[0]).toBe('{"seq":0}');
      expect(orders[29]).toBe('{"seq":29}');
      expect(sink.records.has('__consumer_offsets')).toBe(false);
      expect(result.detail).toContain('sampled 55 records');
      const used = new Set(kafka.requests.slice(start).map((r) => r.split('/')[0]));
      expect([...used].sort()).toEqual(['1', '18', '2', '3']);
    });

    it('samples from the earliest offset of a partition whose start was deleted', async () => {
      const sink = new CollectingSink(1000);
      await kafkaConnector.probe(
        { protocol: 'kafka', host: '127.0.0.1', port: kafka.port },
        scopedContext([], sink),
      );
      const orders = sink.records.get('orders') ?? [];
      expect(orders).toHaveLength(140);
      expect(orders).toContain('{"seq":60}');
      // Offsets 60–99 exist in partitions 0 and 1; below 60 only in partition 0.
      expect(orders.filter((o) => o === '{"seq":60}')).toHaveLength(2);
      expect(orders.filter((o) => o === '{"seq":59}')).toHaveLength(1);
    });
  });

  describe('a partition led by a broker advertised outside the scope', () => {
    let kafka: FakeKafka;

    beforeAll(async () => {
      kafka = await startFakeKafka({
        topics: [
          {
            name: 'events',
            partitions: [
              { earliest: 0, latest: 12 },
              { earliest: 0, latest: 30, leader: 'remote' },
            ],
          },
        ],
        remoteLeader: { host: '10.9.9.9', port: 9092 },
        advertise: { host: 'localhost' },
      });
    });

    afterAll(async () => {
      await kafka.stop();
    });

    it('skips the out-of-scope leader, says so, and marks the size approximate', async () => {
      const seen: string[] = [];
      const before = kafka.connections();
      const result = await kafkaConnector.probe(
        { protocol: 'kafka', host: '127.0.0.1', port: kafka.port },
        scopedContext(seen),
      );
      expect(result.status).toBe('open');
      // The scope was asked about the advertised address (and refused it): no socket went there.
      expect(seen).toEqual(['10.9.9.9:9092']);
      expect(kafka.connections() - before).toBe(1);
      expect(result.size).toEqual({ collections: 1, records: 12, approximate: true });
      expect(result.collections).toEqual([{ name: 'events', records: 12 }]);
      expect(result.detail).toContain('leader 10.9.9.9:9092 outside scope, not contacted');
      expect(result.detail).toContain('1 partition not sized');
    });
  });

  describe('a one-broker cluster advertising a container hostname', () => {
    let kafka: FakeKafka;

    beforeAll(async () => {
      kafka = await startFakeKafka({
        topics: [{ name: 'logs', partitions: [{ earliest: 0, latest: 9 }] }],
        advertise: { host: 'kafka-0.internal', port: 29092 },
      });
    });

    afterAll(async () => {
      await kafka.stop();
    });

    it('sizes through the connection it has, without asking about or contacting the advertised name', async () => {
      const seen: string[] = [];
      const before = kafka.connections();
      const result = await kafkaConnector.probe(
        { protocol: 'kafka', host: '127.0.0.1', port: kafka.port },
        scopedContext(seen),
      );
      expect(result).toMatchObject({ status: 'open', size: { collections: 1, records: 9 } });
      expect(result.size?.approximate).toBeUndefined();
      expect(seen).toEqual([]);
      expect(kafka.connections() - before).toBe(1);
    });
  });

  describe('a Kafka 4-like broker without Metadata v1', () => {
    let kafka: FakeKafka;

    beforeAll(async () => {
      kafka = await startFakeKafka({
        topics: [{ name: 'audit', partitions: [{ earliest: 3, latest: 10 }] }],
        modern: true,
      });
    });

    afterAll(async () => {
      await kafka.stop();
    });

    it('uses Metadata v4 and sizes exactly', async () => {
      const start = kafka.requests.length;
      const result = await kafkaConnector.probe(
        { protocol: 'kafka', host: '127.0.0.1', port: kafka.port },
        scopedContext([]),
      );
      expect(result).toMatchObject({ status: 'open', size: { collections: 1, records: 7 } });
      expect(kafka.requests.slice(start)).toContain('3/4');
    });
  });

  describe('a SASL listener', () => {
    let kafka: FakeKafka;

    beforeAll(async () => {
      kafka = await startFakeKafka({ topics, sasl: true });
    });

    afterAll(async () => {
      await kafka.stop();
    });

    it('is auth-required, and named credentials never reach the report', async () => {
      const password = 'kafka-secret-7781';
      const report = await runScan({
        targets: [`kafka://alice:${password}@127.0.0.1:${kafka.port}`],
        timeoutMs,
      });
      expect(report.targets[0]).toMatchObject({ protocol: 'kafka', status: 'auth-required' });
      expect(report.targets[0]?.server?.product).toBe('kafka');
      expect(JSON.stringify(report)).not.toContain(password);
    });

    it('is auth-required on a bare host:port', async () => {
      const report = await runScan({ targets: [`127.0.0.1:${kafka.port}`], timeoutMs });
      expect(report.targets[0]).toMatchObject({ protocol: 'kafka', status: 'auth-required' });
    });
  });

  describe('servers that are not Kafka', () => {
    let server: Server | undefined;

    afterEach(async () => {
      await new Promise<void>((resolve) => {
        if (server === undefined) resolve();
        else
          server.close(() => {
            resolve();
          });
      });
      server = undefined;
    });

    async function serve(reply: Buffer): Promise<number> {
      server = createServer((socket) => {
        socket.on('error', () => undefined);
        socket.on('data', () => {
          socket.end(reply);
        });
      });
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      if (address === null || typeof address !== 'object') throw new Error('no port');
      return address.port;
    }

    it('garbage is other-protocol', async () => {
      const port = await serve(Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
      const result = await kafkaConnector.probe(
        { protocol: 'kafka', host: '127.0.0.1', port },
        scopedContext([]),
      );
      expect(result.status).toBe('other-protocol');
    });

    it('a framed answer with absurd array counts is other-protocol, not a huge allocation', async () => {
      // size 14, correlation id 1, error 0, api_keys count 2^31−1 in 4 bytes.
      const port = await serve(Buffer.from('0000000e000000010000' + '7fffffff' + '00000000', 'hex'));
      const result = await kafkaConnector.probe(
        { protocol: 'kafka', host: '127.0.0.1', port },
        scopedContext([]),
      );
      expect(result.status).toBe('other-protocol');
    });

    it('a TLS-only listener is other-protocol', async () => {
      // TLS alert record: type 21, version 3.3, length 2, fatal protocol_version.
      const port = await serve(Buffer.from('15030300020246', 'hex'));
      const result = await kafkaConnector.probe(
        { protocol: 'kafka', host: '127.0.0.1', port },
        scopedContext([]),
      );
      expect(result.status).toBe('other-protocol');
      expect(result.detail).toContain('TLS');
    });
  });
});
