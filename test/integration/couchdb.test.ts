import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { couchdbConnector } from '../../src/connectors/couchdb.js';
import type { TargetReport } from '../../src/core/scan-report.js';
import { runScan } from '../../src/scan/run-scan.js';
import { CollectingSink, probeContext } from '../collecting-sink.js';
import { startFakeCouchDb, type FakeCouchDb } from '../servers/fake-couchdb.js';
import { startPlainWebApp, type PlainWebApp } from '../servers/plain-web-app.js';

const timeoutMs = 5_000;

async function scanOne(target: string): Promise<TargetReport> {
  const report = await runScan({ targets: [target], timeoutMs });
  expect(report.targets).toHaveLength(1);
  return report.targets[0] as TargetReport;
}

const customers = Array.from({ length: 7 }, (_, i) => ({
  _id: `cust-${String(i).padStart(3, '0')}`,
  email: `user${i}@example.com`,
  name: `User ${i}`,
}));
const orders = Array.from({ length: 3 }, (_, i) => ({ _id: `order-${i}`, total: 10 * i }));
const events = Array.from({ length: 1_203 }, (_, i) => ({ _id: `ev-${String(i).padStart(5, '0')}`, n: i }));
const design = { _id: '_design/app', views: { all: { map: 'function (doc) { emit(doc._id) }' } } };
const users = [{ _id: 'org.couchdb.user:ann', name: 'ann', type: 'user', roles: [] }];
const password = 'Couch-s3cret:pw';
const admin = { user: 'admin', password };

describe('couchdb connector against a protocol-faithful fake CouchDB (no CouchDB server installable here)', () => {
  let open: FakeCouchDb;
  let adminOnly: FakeCouchDb;
  let locked: FakeCouchDb;
  let webApp: PlainWebApp;
  let webAppPort = 0;
  const stops: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    const start = async (options: Parameters<typeof startFakeCouchDb>[0]): Promise<FakeCouchDb> => {
      const server = await startFakeCouchDb(options);
      stops.push(() => server.stop());
      return server;
    };
    [open, adminOnly, locked] = await Promise.all([
      // admin_only_all_dbs off (CouchDB 2 behaviour): the listing is public.
      start({
        databases: {
          customers: { docs: [...customers, design] },
          orders: { docs: orders, members: ['staff'] },
          _users: { docs: users },
          _replicator: { docs: [] },
        },
        admin,
        adminOnlyAllDbs: false,
      }),
      // CouchDB 3 default: _all_dbs admin-only, one public database.
      start({
        databases: { customers: { docs: customers }, events: { docs: events }, _users: { docs: users } },
        admin,
      }),
      start({ databases: { customers: { docs: customers } }, admin, requireValidUser: true }),
    ]);
    webApp = await startPlainWebApp('application/json', JSON.stringify({ status: 'ok', version: '1.0' }));
    webAppPort = webApp.port;
    stops.push(() => webApp.stop());
  });

  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
  });

  it('reports an open server with exact document counts and sizes.external', async () => {
    const result = await scanOne(`couchdb://127.0.0.1:${open.port}`);
    expect(result.status).toBe('open');
    expect(result.server).toEqual({ product: 'couchdb', version: '3.3.3' });
    // orders is members-only: listed, but not measured.
    expect(result.collections).toEqual([
      { name: 'customers', records: 8, bytes: open.externalSize('customers') },
      { name: 'orders' },
    ]);
    expect(result.size).toEqual({
      collections: 2,
      records: 8,
      bytes: open.externalSize('customers'),
      approximate: true,
    });
    expect(result.detail).toBe(
      '_all_dbs and _all_docs answered without authentication; 1 readable database of 2 databases, ' +
        '8 documents (+2 system databases not listed); 1 with no _security members',
    );
    expect(open.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('checks a database named in the target path when _all_dbs is admin-only', async () => {
    const listing = await scanOne(`couchdb://127.0.0.1:${adminOnly.port}`);
    expect(listing.status).toBe('auth-required');
    expect(listing.server).toEqual({ product: 'couchdb', version: '3.3.3' });
    expect(listing.detail).toContain('_all_dbs is admin-only');
    const named = await scanOne(`couchdb://127.0.0.1:${adminOnly.port}/customers`);
    expect(named.status).toBe('open');
    expect(named.collections).toEqual([
      { name: 'customers', records: 7, bytes: adminOnly.externalSize('customers') },
    ]);
    expect(named.size).toEqual({ collections: 1, records: 7, bytes: adminOnly.externalSize('customers') });
    const missing = await scanOne(`couchdb://127.0.0.1:${adminOnly.port}/nope`);
    expect(missing.status).toBe('error');
    expect(missing.detail).toContain('"nope" does not exist');
  });

  it('reports require_valid_user as auth-required and keeps named credentials out of output', async () => {
    const result = await scanOne(`couchdb://127.0.0.1:${locked.port}`);
    expect(result.status).toBe('auth-required');
    expect(result.server).toEqual({ product: 'couchdb' });
    const wrong = await runScan({
      targets: [`couchdb://admin:wrong-${password}@127.0.0.1:${locked.port}`],
      timeoutMs,
    });
    expect(wrong.targets[0]?.status).toBe('auth-required');
    const report = await runScan({
      targets: [`couchdb://admin:${password}@127.0.0.1:${locked.port}`],
      timeoutMs,
    });
    expect(report.targets[0]?.status).toBe('open');
    expect(report.targets[0]?.size).toEqual({
      collections: 1,
      records: 7,
      bytes: locked.externalSize('customers'),
    });
    expect(JSON.stringify(report)).not.toContain(password);
    expect(JSON.stringify(wrong)).not.toContain(password);
  });

  it('samples documents without _rev or design documents, paging past one page', async () => {
    const sink = new CollectingSink(3);
    const result = await couchdbConnector.probe(
      { protocol: 'couchdb', host: '127.0.0.1', port: open.port },
      probeContext(sink),
    );
    expect(result.status).toBe('open');
    expect(sink.records.get('customers')).toEqual(customers.slice(0, 3));
    expect(result.detail).toContain('sampled 3 documents from 1 database');

    const all = new CollectingSink(Infinity);
    await couchdbConnector.probe(
      { protocol: 'couchdb', host: '127.0.0.1', port: open.port },
      probeContext(all),
    );
    expect(all.records.get('customers')).toEqual(customers);
    expect(all.records.has('orders')).toBe(false);
    expect(all.records.has('_users')).toBe(false);

    // Past one page of 1,000 rows, the next page starts at the first row not yet kept.
    const paged = new CollectingSink(Infinity);
    const pagedResult = await couchdbConnector.probe(
      { protocol: 'couchdb', host: '127.0.0.1', port: adminOnly.port, path: 'events' },
      probeContext(paged),
    );
    expect(pagedResult.size?.records).toBe(events.length);
    expect(paged.values('events', '_id')).toEqual(events.map((e) => e._id));
  });

  it('auto-detects CouchDB on a bare host:port and leaves other web apps alone', async () => {
    const result = await scanOne(`127.0.0.1:${open.port}`);
    expect(result.protocol).toBe('couchdb');
    expect(result.status).toBe('open');
    const other = await couchdbConnector.probe(
      { protocol: 'couchdb', host: '127.0.0.1', port: webAppPort },
      probeContext(),
    );
    expect(other.status).toBe('other-protocol');
    expect(other.server).toBeUndefined();
  });
});
