import { Binary, Decimal128, ObjectId, type Document } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongodbConnector } from '../../src/connectors/mongodb.js';
import type { ScanReport, TargetReport } from '../../src/core/scan-report.js';
import { runScan } from '../../src/scan/run-scan.js';
import { CollectingSink, probeContext } from '../collecting-sink.js';
import { startFakeMongo, type FakeMongo, type FakeMongoDatabase } from '../servers/fake-mongodb.js';

const timeoutMs = 5000;
const userPassword = 'reader-pass-9137';

async function scanOne(target: string): Promise<{ report: ScanReport; entry: TargetReport }> {
  const report = await runScan({ targets: [target], timeoutMs });
  expect(report.targets).toHaveLength(1);
  return { report, entry: report.targets[0]! };
}

function people(prefix: string, count: number): Document[] {
  return Array.from({ length: count }, (_, i) => ({
    _id: new ObjectId(),
    email: `${prefix}${i}@example.test`,
    name: `Person ${i}`,
    createdAt: new Date(Date.UTC(2024, 0, 1 + (i % 28))),
    avatar: new Binary(Buffer.from([1, 2, 3, i & 0xff])),
    balance: Decimal128.fromString(`${i}.50`),
    address: { city: 'Springfield', zip: `${10000 + i}` },
  }));
}

// Seeded: shop (customers 40, orders 1234), crm (contacts 25 and a view), and the three system
// databases every server has. Sizes are listDatabases' sizeOnDisk of the two user databases.
function seed(): FakeMongoDatabase[] {
  return [
    { name: 'admin', sizeOnDisk: 40960, collections: { 'system.version': { documents: [{ _id: 'x' }] } } },
    { name: 'config', sizeOnDisk: 12288, collections: {} },
    { name: 'local', sizeOnDisk: 73728, collections: { startup_log: { documents: [{ _id: 'h' }] } } },
    {
      name: 'shop',
      sizeOnDisk: 81920,
      collections: {
        customers: { documents: people('c', 40) },
        orders: {
          documents: Array.from({ length: 1234 }, (_, i) => ({ _id: i, total: i * 3, sku: `S-${i}` })),
        },
      },
    },
    {
      name: 'crm',
      sizeOnDisk: 40960,
      collections: {
        contacts: { documents: people('k', 25) },
        contacts_view: { documents: [], view: true },
        'system.views': { documents: [{ _id: 'crm.contacts_view' }] },
      },
    },
  ];
}

const expectedCollections = [
  { name: 'shop.customers', records: 40 },
  { name: 'shop.orders', records: 1234 },
  { name: 'crm.contacts', records: 25 },
];

// Read commands only (DESIGN.md invariant 1).
const allowedCommands = new Set([
  'hello',
  'isMaster',
  'buildInfo',
  'listDatabases',
  'listCollections',
  'count',
  'dbStats',
  'find',
  'getMore',
  'saslStart',
  'saslContinue',
]);

describe('mongodb connector against a protocol-faithful fake MongoDB (no MongoDB server installable here)', () => {
  describe('open 7.0 server with 2 databases and 3 collections', () => {
    let mongo: FakeMongo;

    beforeAll(async () => {
      mongo = await startFakeMongo({ databases: seed() });
    });

    afterAll(async () => {
      await mongo.stop();
    });

    it('is open, with version, exact counts per collection and bytes on disk', async () => {
      const target = `mongodb://127.0.0.1:${mongo.port}`;
      const { entry } = await scanOne(target);
      expect(entry).toMatchObject({ target, protocol: 'mongodb', status: 'open' });
      expect(entry.server).toEqual({ product: 'mongodb', version: '7.0.14' });
      expect(entry.size).toEqual({ collections: 3, records: 1299, bytes: 81920 + 40960 });
      expect(entry.collections).toEqual(expectedCollections);
      expect(entry.detail).toContain('3 system databases');
      expect(entry.indicators).toEqual([]);
      expect(mongo.opcodes.get(2004) ?? 0).toBe(0);
      for (const name of mongo.commands) expect(allowedCommands).toContain(name);
    });

    it('is found by auto-detect on a bare host:port', async () => {
      const { entry } = await scanOne(`127.0.0.1:${mongo.port}`);
      expect(entry).toMatchObject({ protocol: 'mongodb', status: 'open', size: { records: 1299 } });
    });

    it('samples 10 documents per collection as plain records', async () => {
      const sink = new CollectingSink(10);
      const result = await mongodbConnector.probe(
        { protocol: 'mongodb', host: '127.0.0.1', port: mongo.port },
        probeContext(sink),
      );
      expect(result.status).toBe('open');
      expect([...sink.records.keys()].sort()).toEqual(['crm.contacts', 'shop.customers', 'shop.orders']);
      for (const records of sink.records.values()) expect(records).toHaveLength(10);
      const first = sink.records.get('shop.customers')![0] as Record<string, unknown>;
      expect(first._id).toMatch(/^[0-9a-f]{24}$/);
      expect(first.email).toBe('c0@example.test');
      expect(first.createdAt).toBe('2024-01-01T00:00:00.000Z');
      expect(first.balance).toBe('0.50');
      expect(first.address).toEqual({ city: 'Springfield', zip: '10000' });
      expect('avatar' in first).toBe(false);
      expect(result.detail).toContain('sampled 30 documents in 3 collections');
    });

    it('reads every document under --full, through getMore', async () => {
      const before = mongo.commands.filter((c) => c === 'getMore').length;
      const sink = new CollectingSink(Infinity);
      const result = await mongodbConnector.probe(
        { protocol: 'mongodb', host: '127.0.0.1', port: mongo.port },
        probeContext(sink),
      );
      expect(result.status).toBe('open');
      expect(sink.records.get('shop.customers')).toHaveLength(40);
      expect(sink.records.get('shop.orders')).toHaveLength(1234);
      expect(sink.records.get('crm.contacts')).toHaveLength(25);
      expect(sink.values('shop.orders', '_id')).toEqual(Array.from({ length: 1234 }, (_, i) => i));
      expect(mongo.commands.filter((c) => c === 'getMore').length - before).toBe(2);
    });

    it('is auth-required, without the credentials, when the named user does not exist', async () => {
      const password = 'mongo-secret-4242';
      const { report, entry } = await scanOne(`mongodb://admin:${password}@127.0.0.1:${mongo.port}`);
      expect(entry.status).toBe('auth-required');
      expect(entry.detail).toContain('AuthenticationFailed');
      expect(JSON.stringify(report)).not.toContain(password);
    });
  });

  describe('server with access control', () => {
    let unauthorized: FakeMongo;
    let emptyList: FakeMongo;

    beforeAll(async () => {
      unauthorized = await startFakeMongo({
        databases: seed(),
        auth: 'unauthorized',
        user: { name: 'reader', password: userPassword },
      });
      emptyList = await startFakeMongo({ databases: seed(), auth: 'empty-list' });
    });

    afterAll(async () => {
      await Promise.all([unauthorized.stop(), emptyList.stop()]);
    });

    it('is auth-required when listDatabases answers Unauthorized', async () => {
      const { entry } = await scanOne(`mongodb://127.0.0.1:${unauthorized.port}`);
      expect(entry).toMatchObject({ protocol: 'mongodb', status: 'auth-required' });
      expect(entry.server).toEqual({ product: 'mongodb', version: '7.0.14' });
      expect(entry.detail).toContain('Unauthorized');
      expect(entry.size).toBeUndefined();
    });

    it('is auto-detected as mongodb, not as the HTTP text the driver port answers', async () => {
      const { entry } = await scanOne(`127.0.0.1:${unauthorized.port}`);
      expect(entry).toMatchObject({ protocol: 'mongodb', status: 'auth-required' });
    });

    it('is open with SCRAM-SHA-256 and the credentials named in the target, which never reach output', async () => {
      const target = `mongodb://reader:${userPassword}@127.0.0.1:${unauthorized.port}`;
      const { report, entry } = await scanOne(target);
      expect(entry).toMatchObject({ protocol: 'mongodb', status: 'open' });
      expect(entry.size).toEqual({ collections: 3, records: 1299, bytes: 122880 });
      expect(entry.detail).toContain('with the credentials named in the target');
      expect(JSON.stringify(report)).not.toContain(userPassword);
      expect(JSON.stringify(report)).not.toContain('reader');
    });

    it('samples on an authenticated second connection', async () => {
      const sink = new CollectingSink(10);
      const result = await mongodbConnector.probe(
        {
          protocol: 'mongodb',
          host: '127.0.0.1',
          port: unauthorized.port,
          username: 'reader',
          password: userPassword,
        },
        probeContext(sink),
      );
      expect(result.status).toBe('open');
      expect(sink.records.size).toBe(3);
      for (const records of sink.records.values()) expect(records).toHaveLength(10);
    });

    it('is auth-required with a wrong password, which never reaches output', async () => {
      const wrong = 'not-the-password-77';
      const { report, entry } = await scanOne(`mongodb://reader:${wrong}@127.0.0.1:${unauthorized.port}`);
      expect(entry).toMatchObject({ protocol: 'mongodb', status: 'auth-required' });
      expect(entry.detail).toContain('rejected the credentials');
      expect(JSON.stringify(report)).not.toContain(wrong);
    });

    it('is auth-required when listDatabases answers an empty list', async () => {
      const { entry } = await scanOne(`mongodb://127.0.0.1:${emptyList.port}`);
      expect(entry).toMatchObject({ protocol: 'mongodb', status: 'auth-required' });
      expect(entry.detail).toContain('empty list');
    });
  });

  describe('indicators', () => {
    let fresh: FakeMongo;
    let wiped: FakeMongo;

    beforeAll(async () => {
      const system = seed().slice(0, 3);
      fresh = await startFakeMongo({ databases: system });
      wiped = await startFakeMongo({
        databases: [
          ...system,
          {
            name: 'READ__ME_TO_RECOVER_YOUR_DATA',
            sizeOnDisk: 8192,
            collections: { README: { documents: [{ content: 'All your data is backed up. Pay 0.01 BTC' }] } },
          },
        ],
      });
    });

    afterAll(async () => {
      await Promise.all([fresh.stop(), wiped.stop()]);
    });

    it('marks a server with only system databases as open and empty', async () => {
      const { entry } = await scanOne(`mongodb://127.0.0.1:${fresh.port}`);
      expect(entry).toMatchObject({ status: 'open', size: { collections: 0, records: 0, bytes: 0 } });
      expect(entry.indicators).toEqual(['empty']);
    });

    it('marks a wiped server with a ransom database as ransom-note', async () => {
      const { entry } = await scanOne(`mongodb://127.0.0.1:${wiped.port}`);
      expect(entry).toMatchObject({ status: 'open', size: { collections: 1, records: 1, bytes: 8192 } });
      expect(entry.indicators).toContain('ransom-note');
    });
  });

  describe('legacy 3.4 server (OP_QUERY only)', () => {
    let legacy: FakeMongo;
    let legacyAuth: FakeMongo;

    beforeAll(async () => {
      legacy = await startFakeMongo({ databases: seed(), era: 'legacy' });
      legacyAuth = await startFakeMongo({
        databases: seed(),
        era: 'legacy',
        auth: 'unauthorized',
        user: { name: 'reader', password: userPassword },
      });
    });

    afterAll(async () => {
      await Promise.all([legacy.stop(), legacyAuth.stop()]);
    });

    it('is auth-required without credentials and open with SCRAM-SHA-1 and named ones', async () => {
      const anonymous = await scanOne(`mongodb://127.0.0.1:${legacyAuth.port}`);
      expect(anonymous.entry).toMatchObject({ status: 'auth-required', server: { version: '3.4.24' } });
      const { report, entry } = await scanOne(
        `mongodb://reader:${userPassword}@127.0.0.1:${legacyAuth.port}`,
      );
      expect(entry).toMatchObject({ status: 'open', size: { collections: 3, records: 1299, bytes: 122880 } });
      expect(JSON.stringify(report)).not.toContain(userPassword);
    });

    it('falls back to OP_QUERY isMaster and is open with version and exact sizes', async () => {
      const { entry } = await scanOne(`mongodb://127.0.0.1:${legacy.port}`);
      expect(entry).toMatchObject({ protocol: 'mongodb', status: 'open' });
      expect(entry.server).toEqual({ product: 'mongodb', version: '3.4.24' });
      expect(entry.size).toEqual({ collections: 3, records: 1299, bytes: 122880 });
      expect(entry.collections).toEqual(expectedCollections);
      expect(entry.detail).toContain('wire version 5');
      expect(legacy.commands).toContain('isMaster');
      expect(legacy.opcodes.get(2013)).toBe(1);
    });

    it('samples over OP_QUERY too', async () => {
      const sink = new CollectingSink(10);
      const result = await mongodbConnector.probe(
        { protocol: 'mongodb', host: '127.0.0.1', port: legacy.port },
        probeContext(sink),
      );
      expect(result.status).toBe('open');
      for (const records of sink.records.values()) expect(records).toHaveLength(10);
      expect(sink.records.size).toBe(3);
    });
  });
});
