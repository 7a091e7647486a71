import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScan } from '../../src/scan/run-scan.js';
import { freePort } from '../servers/free-port.js';
import { startMariadb, type PrivateMariadb } from '../servers/mariadb-server.js';

const rootPassword = 'Maria-Root-Pw7';
let open: PrivateMariadb;
let guarded: PrivateMariadb;
const started: PrivateMariadb[] = [];

async function scanOne(target: string, timeoutMs = 8_000) {
  const report = await runScan({ targets: [target], timeoutMs });
  expect(report.targets).toHaveLength(1);
  return { report, entry: report.targets[0]! };
}

// Statement counters that any write, DDL or lock would move.
async function writeCounters(server: PrivateMariadb): Promise<Record<string, string>> {
  const rows = (await server.query(
    `SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_insert', 'Com_update', 'Com_delete', 'Com_replace',
       'Com_create_table', 'Com_drop_table', 'Com_alter_table', 'Com_lock_tables', 'Com_grant')`,
  )) as { Variable_name: string; Value: string }[];
  return Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]));
}

beforeAll(async () => {
  [open, guarded] = await Promise.all([
    startMariadb().then((s) => (started.push(s), s)),
    startMariadb({ rootPassword }).then((s) => (started.push(s), s)),
  ]);
  await open.query(`
    CREATE DATABASE shop;
    CREATE TABLE shop.customers (id INT PRIMARY KEY, email VARCHAR(100)) ENGINE=InnoDB;
    CREATE TABLE shop.orders (id INT PRIMARY KEY, total DECIMAL(10,2)) ENGINE=InnoDB;
    CREATE TABLE shop.audit (at DATETIME) ENGINE=InnoDB;
    CREATE VIEW shop.big_orders AS SELECT * FROM shop.orders WHERE total > 100;
    CREATE DATABASE crm;
    CREATE TABLE crm.leads (id INT) ENGINE=Aria;
    USE shop;
    INSERT INTO shop.customers SELECT seq, CONCAT('user', seq, '@example.com') FROM seq_1_to_7;
    INSERT INTO shop.orders SELECT seq, seq * 1.5 FROM seq_1_to_250;
    INSERT INTO crm.leads SELECT seq FROM seq_1_to_3;`);
  // vault.events is above the exact-count threshold, so its InnoDB estimate stands, marked approximate.
  await guarded.query(`
    CREATE DATABASE vault; CREATE TABLE vault.tokens (t TEXT); INSERT INTO vault.tokens VALUES (1), (2);
    CREATE TABLE vault.events (id INT PRIMARY KEY) ENGINE=InnoDB;
    USE vault; INSERT INTO vault.events SELECT seq FROM seq_1_to_15000; ANALYZE TABLE vault.events;`);
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

describe('mysql connector against MariaDB 10.11', () => {
  it('reports root with an empty password as open with exact sizes', async () => {
    const before = await writeCounters(open);
    const { entry } = await scanOne(`mysql://127.0.0.1:${open.port}`);
    expect(entry.status).toBe('open');
    expect(entry.protocol).toBe('mysql');
    expect(entry.detail).toContain('root');
    expect(entry.server).toEqual({
      product: 'mariadb',
      version: expect.stringMatching(/^10\.11\./) as string,
    });
    expect(entry.size?.collections).toBe(4);
    expect(entry.size?.records).toBe(260);
    expect(entry.size?.bytes).toBeGreaterThan(0);
    expect(entry.size?.approximate).toBeUndefined();
    const records = Object.fromEntries(entry.collections.map((c) => [c.name, c.records]));
    expect(records).toEqual({ 'shop.customers': 7, 'shop.orders': 250, 'shop.audit': 0, 'crm.leads': 3 });
    // The scan wrote nothing: no insert, update, delete, DDL or lock statement ran meanwhile.
    expect(await writeCounters(open)).toEqual(before);
  });

  it('reports root with a password as auth-required, with product and version from the greeting', async () => {
    const { entry } = await scanOne(`mysql://127.0.0.1:${guarded.port}`);
    expect(entry.status).toBe('auth-required');
    expect(entry.detail).toContain('root denied');
    expect(entry.detail).toContain('anonymous denied');
    expect(entry.server?.product).toBe('mariadb');
    expect(entry.server?.version).toMatch(/^10\.11\./);
    expect(entry.size).toBeUndefined();
  });

  it('uses credentials named in the target and never reports the password', async () => {
    const { report, entry } = await scanOne(`mysql://root:${rootPassword}@127.0.0.1:${guarded.port}`);
    expect(entry.status).toBe('open');
    expect(entry.detail).toContain('given credentials');
    const records = new Map(entry.collections.map((c) => [c.name, c.records]));
    expect([...records.keys()].sort()).toEqual(['vault.events', 'vault.tokens']);
    expect(records.get('vault.tokens')).toBe(2);
    // An estimate, or a bounded count's lower bound when the estimate was under the threshold.
    expect(records.get('vault.events')).toBeGreaterThan(10_000);
    expect(records.get('vault.events')).toBeLessThan(30_000);
    expect(entry.size?.approximate).toBe(true);
    expect(JSON.stringify(report)).not.toContain(rootPassword);
  });

  it('reports a wrong named password as auth-required', async () => {
    const { report, entry } = await scanOne(`mysql://root:wrong-one@127.0.0.1:${guarded.port}`);
    expect(entry.status).toBe('auth-required');
    expect(JSON.stringify(report)).not.toContain('wrong-one');
  });

  it('identifies MySQL/MariaDB on a bare host:port', async () => {
    const { entry } = await scanOne(`127.0.0.1:${open.port}`, 3_000);
    expect(entry.protocol).toBe('mysql');
    expect(entry.status).toBe('open');
    expect(entry.size?.records).toBe(260);
    const locked = await scanOne(`127.0.0.1:${guarded.port}`, 3_000);
    expect(locked.entry.protocol).toBe('mysql');
    expect(locked.entry.status).toBe('auth-required');
  });

  it('reports a refused port as unreachable', async () => {
    const port = await freePort();
    const { entry } = await scanOne(`mysql://127.0.0.1:${port}`);
    expect(entry.status).toBe('unreachable');
  });
});

describe('mysql connector against hostile or odd greetings', () => {
  let server: Server;
  let port: number;
  let greeting: Buffer;

  beforeAll(async () => {
    port = await freePort();
    server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(greeting);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('reports "host not allowed" in the greeting as auth-required', async () => {
    const message = Buffer.from("Host '127.0.0.1' is not allowed to connect to this MariaDB server");
    const payload = Buffer.concat([Buffer.from([0xff, 0x6a, 0x04]), message]);
    greeting = Buffer.concat([Buffer.from([payload.length, 0, 0, 0]), payload]);
    const { entry } = await scanOne(`mysql://127.0.0.1:${port}`, 3_000);
    expect(entry.status).toBe('auth-required');
    expect(entry.detail).toContain('not allowed to connect');
  });

  it('rejects a greeting that claims a huge length before reading it', async () => {
    greeting = Buffer.from([0xff, 0xff, 0xff, 0x00, 0x0a, 0x35]);
    const { entry } = await scanOne(`mysql://127.0.0.1:${port}`, 3_000);
    expect(entry.status).toBe('other-protocol');
  });

  it('rejects a peer that speaks something else first', async () => {
    greeting = Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n');
    const { entry } = await scanOne(`mysql://127.0.0.1:${port}`, 3_000);
    expect(entry.status).toBe('other-protocol');
  });
});
