import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScan } from '../../src/scan/run-scan.js';
import { freePort } from '../servers/free-port.js';
import { startPostgres, type PrivatePostgres } from '../servers/postgres-server.js';

const password = 'Scr4m-only-Pw';
let trust: PrivatePostgres;
let scram: PrivatePostgres;
const started: PrivatePostgres[] = [];

async function scanOne(target: string, timeoutMs = 8_000) {
  const report = await runScan({ targets: [target], timeoutMs });
  expect(report.targets).toHaveLength(1);
  return { report, entry: report.targets[0]! };
}

// Rows of the seeded tables, read through the trusted Unix socket (never through the scanner).
async function seededCounts(): Promise<number[]> {
  const [users] = await trust.psql('SELECT count(*)::int AS n FROM public.users');
  const [orders] = await trust.psql('SELECT count(*)::int AS n FROM sales.orders', 'shop');
  const [empty] = await trust.psql('SELECT count(*)::int AS n FROM public.audit', 'shop');
  return [users, orders, empty].map((r) => (r?.rows[0] as { n: number }).n);
}

beforeAll(async () => {
  [trust, scram] = await Promise.all([
    startPostgres({ auth: 'trust', logStatements: true }).then((s) => (started.push(s), s)),
    startPostgres({ auth: 'scram-sha-256', password }).then((s) => (started.push(s), s)),
  ]);
  await trust.psql('CREATE DATABASE shop');
  await trust.psql(`
    CREATE TABLE public.users (id int PRIMARY KEY, email text);
    INSERT INTO public.users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 5) g;`);
  await trust.psql(
    `CREATE SCHEMA sales;
     CREATE TABLE sales.orders (id int PRIMARY KEY, total numeric);
     INSERT INTO sales.orders SELECT g, g * 1.5 FROM generate_series(1, 120) g;
     CREATE TABLE public.audit (at timestamptz);`,
    'shop',
  );
  // events is above the exact-count threshold: its size comes from the planner's estimate, which
  // ANALYZE makes exact for a table this small (it samples every row).
  await scram.psql(`
    CREATE TABLE public.secrets (token text); INSERT INTO secrets VALUES (1), (2);
    CREATE TABLE public.events (id int); INSERT INTO events SELECT generate_series(1, 15000);
    ANALYZE public.events;`);
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

describe('postgres connector against PostgreSQL 15', () => {
  it('reports a trust-auth server as open with exact sizes of every database', async () => {
    const { entry } = await scanOne(`postgres://127.0.0.1:${trust.port}`);
    expect(entry.status).toBe('open');
    expect(entry.protocol).toBe('postgres');
    expect(entry.server?.product).toBe('postgresql');
    expect(entry.server?.version).toMatch(/^15\./);
    expect(entry.detail).toContain('without a password');
    expect(entry.size?.collections).toBe(3);
    expect(entry.size?.records).toBe(125);
    expect(entry.size?.bytes).toBeGreaterThan(0);
    expect(entry.size?.approximate).toBeUndefined();
    expect(entry.indicators).not.toContain('empty');
    const records = Object.fromEntries(entry.collections.map((c) => [c.name, c.records]));
    expect(records).toEqual({
      'postgres.public.users': 5,
      'shop.sales.orders': 120,
      'shop.public.audit': 0,
    });
  });

  it('talks to the server only in read-only transactions and changes nothing', async () => {
    const before = await seededCounts();
    await scanOne(`postgres://127.0.0.1:${trust.port}`);
    expect(await seededCounts()).toEqual(before);
    // log_line_prefix is `application|session|`; continuation lines of a statement have no prefix.
    const statements = new Map<string, string[]>();
    for (const line of readFileSync(trust.logFile, 'utf8').split('\n')) {
      const match = /^leakwatch\|([^|]+)\|LOG: {2}statement: (.*)$/.exec(line);
      if (match === null) continue;
      const [, session = '', text = ''] = match;
      statements.set(session, [...(statements.get(session) ?? []), text.trim()]);
    }
    expect(statements.size).toBeGreaterThanOrEqual(2);
    const allowed =
      /^(|BEGIN READ ONLY|SET LOCAL (statement|lock)_timeout = \d+|SELECT .*|SAVEPOINT leakwatch_count|RELEASE SAVEPOINT leakwatch_count|ROLLBACK( TO SAVEPOINT leakwatch_count)?)$/;
    for (const list of statements.values()) {
      expect(list[0]).toBe('BEGIN READ ONLY');
      for (const statement of list) expect(statement).toMatch(allowed);
    }
  });

  it('reports a SCRAM server as auth-required without trying passwords', async () => {
    const { entry } = await scanOne(`postgres://127.0.0.1:${scram.port}`);
    expect(entry.status).toBe('auth-required');
    expect(entry.detail).toMatch(/SCRAM-SHA-256/);
    expect(entry.server?.product).toBe('postgresql');
    expect(entry.size).toBeUndefined();
  });

  it('uses a password named in the target and never reports it', async () => {
    const { report, entry } = await scanOne(`postgres://postgres:${password}@127.0.0.1:${scram.port}`);
    expect(entry.status).toBe('open');
    expect(entry.detail).toContain('given credentials');
    expect(entry.target).toBe(`postgres://127.0.0.1:${scram.port}`);
    expect(entry.size?.records).toBe(15_002);
    expect(entry.size?.approximate).toBe(true);
    const records = Object.fromEntries(entry.collections.map((c) => [c.name, c.records]));
    expect(records).toEqual({ 'postgres.public.secrets': 2, 'postgres.public.events': 15_000 });
    expect(JSON.stringify(report)).not.toContain(password);
  });

  it('reports a wrong named password as auth-required', async () => {
    const { report, entry } = await scanOne(`postgres://postgres:not-it@127.0.0.1:${scram.port}`);
    expect(entry.status).toBe('auth-required');
    expect(entry.detail).toContain('rejected');
    expect(JSON.stringify(report)).not.toContain('not-it');
  });

  it('identifies PostgreSQL on a bare host:port', async () => {
    const { entry } = await scanOne(`127.0.0.1:${trust.port}`, 3_000);
    expect(entry.protocol).toBe('postgres');
    expect(entry.status).toBe('open');
    expect(entry.size?.records).toBe(125);
  });

  it('reports a refused port as unreachable', async () => {
    const port = await freePort();
    const { entry } = await scanOne(`postgres://127.0.0.1:${port}`);
    expect(entry.status).toBe('unreachable');
  });
});

describe('postgres connector against hostile peers', () => {
  let server: Server;
  let port: number;
  let answer: Buffer;

  beforeAll(async () => {
    port = await freePort();
    server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.write(answer));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('rejects an authentication request claiming a huge length before reading it', async () => {
    answer = Buffer.from([0x52, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    const { entry } = await scanOne(`postgres://127.0.0.1:${port}`, 3_000);
    expect(entry.status).toBe('other-protocol');
  });

  it('rejects a peer that answers with something else', async () => {
    answer = Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n');
    const { entry } = await scanOne(`postgres://127.0.0.1:${port}`, 3_000);
    expect(entry.status).toBe('other-protocol');
  });
});
