import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ProbeContext,
  ProbeTarget,
  RecordSink,
  RecordTextFormat,
} from '../../src/connectors/connector.js';
import { mysqlConnector } from '../../src/connectors/mysql.js';
import { postgresConnector } from '../../src/connectors/postgres.js';
import { runScan } from '../../src/scan/run-scan.js';
import { startMariadb, type PrivateMariadb } from '../servers/mariadb-server.js';
import { startPostgres, type PrivatePostgres } from '../servers/postgres-server.js';

// A forced collection before each reading makes a memory figure count live data, not garbage.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Memory that holds rows: the JS heap plus Buffers (socket chunks) outside it. */
function liveBytes(): number {
  collectGarbage();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/**
 * A RecordSink of our own interface that keeps what connectors hand over (or only counts it, for
 * the long reads), and the peak of live memory while records arrive.
 */
class CollectingSink implements RecordSink {
  readonly records = new Map<string, unknown[]>();
  readonly counts = new Map<string, number>();
  readonly texts: { collection: string; text: string; format: RecordTextFormat }[] = [];
  peakLive = 0;

  constructor(
    readonly limit: number,
    readonly signal: AbortSignal,
    private readonly keep = true,
  ) {}

  add(collection: string, record: unknown): void {
    const n = (this.counts.get(collection) ?? 0) + 1;
    this.counts.set(collection, n);
    if (!this.keep && n % 1500 === 0) this.peakLive = Math.max(this.peakLive, liveBytes());
    if (this.keep) this.records.set(collection, [...(this.records.get(collection) ?? []), record]);
  }

  addText(collection: string, text: string, format: RecordTextFormat): void {
    this.texts.push({ collection, text, format });
  }
}

function context(sampler?: RecordSink, timeoutMs = 10_000): ProbeContext {
  return {
    signal: AbortSignal.timeout(timeoutMs),
    timeoutMs,
    maxBytes: 8 << 20,
    checkScope: () => Promise.resolve(),
    ...(sampler === undefined ? {} : { sampler }),
  };
}

const seededEmail = (n: number): string => `person${n}@sampled.example`;
const seededSecret = 'tok_SEEDED_9f8e7d6c5b4a';

describe('postgres connector samples records for classification (PostgreSQL 15)', () => {
  let server: PrivatePostgres;
  let target: ProbeTarget;

  beforeAll(async () => {
    server = await startPostgres({ auth: 'trust', logStatements: true });
    target = { protocol: 'postgres', host: '127.0.0.1', port: server.port };
    await server.psql('CREATE DATABASE shop');
    // wide: 15,000 rows of ~4 KB (md5 text does not compress, so TOAST keeps it wide), ~60 MB.
    await server.psql(`
      CREATE TABLE public.people (id int PRIMARY KEY, email text, profile jsonb, seen_at timestamptz,
        avatar bytea, big bigint, amount numeric, tags text[], "__proto__" text);
      INSERT INTO public.people SELECT g, 'person' || g || '@sampled.example',
        jsonb_build_object('contact', jsonb_build_object('phone', '+4930' || (1000000 + g)), 'n', g),
        timestamptz '2024-03-01 12:00:00+00' + g * interval '1 minute', '\\xdeadbeef'::bytea,
        9007199254740993 + g, g * 1.25, ARRAY['a', 'b'], '${seededSecret}'
        FROM generate_series(1, 120) g;
      CREATE TABLE public.wide (id int PRIMARY KEY, payload text);
      INSERT INTO public.wide SELECT g, (SELECT string_agg(md5(g::text || '.' || i), '') FROM generate_series(1, 128) i)
        FROM generate_series(1, 15000) g;
      ANALYZE;`);
    await server.psql(
      `CREATE SCHEMA sales; CREATE TABLE sales.orders (id int, total numeric);
       INSERT INTO sales.orders SELECT g, g FROM generate_series(1, 30) g;`,
      'shop',
    );
  });

  afterAll(async () => {
    await server.stop();
  });

  async function rowCounts(): Promise<number[]> {
    const [people] = await server.psql('SELECT count(*)::int AS n FROM public.people');
    const [wide] = await server.psql('SELECT count(*)::int AS n FROM public.wide');
    const [orders] = await server.psql('SELECT count(*)::int AS n FROM sales.orders', 'shop');
    return [people, wide, orders].map((r) => (r?.rows[0] as { n: number }).n);
  }

  it('hands over exactly `limit` rows per table, as plain JSON-like records named like the collections', async () => {
    const sink = new CollectingSink(10, AbortSignal.timeout(20_000));
    const result = await postgresConnector.probe(target, context(sink));
    expect(result.status).toBe('open');
    const names = (result.collections ?? []).map((c) => c.name).sort();
    expect(names).toEqual(['postgres.public.people', 'postgres.public.wide', 'shop.sales.orders']);
    expect([...sink.counts.keys()].sort()).toEqual(names);
    for (const name of names) expect(sink.counts.get(name)).toBe(10);
    expect(result.detail).toContain('sampled 30 rows of 3 tables');
    const people = sink.records.get('postgres.public.people') as Record<string, unknown>[];
    const first = people.find((r) => r.id === 1);
    expect(first).toBeDefined();
    expect(first?.email).toBe(seededEmail(1));
    // jsonb arrives parsed, so field paths continue into it (profile.contact.phone).
    expect(first?.profile).toEqual({ contact: { phone: '+49301000001' }, n: 1 });
    expect(first?.seen_at).toBe('2024-03-01T12:01:00.000Z');
    // int8 and numeric as exact strings; arrays stay arrays; bytea is left out.
    expect(first?.big).toBe('9007199254740994');
    expect(first?.amount).toBe('1.25');
    expect(first?.tags).toEqual(['a', 'b']);
    expect(first).not.toHaveProperty('avatar');
    // A column named __proto__ is an ordinary key, not a prototype.
    expect(Object.getOwnPropertyDescriptor(first, '__proto__')?.value).toBe(seededSecret);
    expect(Object.getPrototypeOf(first)).toBe(Object.prototype);
  });

  it('reads every row with --full through a cursor in batches, with bounded memory', async () => {
    const sink = new CollectingSink(Infinity, AbortSignal.timeout(30_000), false);
    const ids = new Set<unknown>();
    const add = sink.add.bind(sink);
    sink.add = (collection, record) => {
      if (collection === 'postgres.public.wide') ids.add((record as { id: unknown }).id);
      add(collection, record);
    };
    const liveBefore = liveBytes();
    const result = await postgresConnector.probe(target, context(sink));
    expect(result.status).toBe('open');
    expect(Object.fromEntries(sink.counts)).toEqual({
      'postgres.public.people': 120,
      'postgres.public.wide': 15_000,
      'shop.sales.orders': 30,
    });
    expect(ids.size).toBe(15_000);
    expect(result.detail).toContain('sampled 15150 rows of 3 tables');
    // The ~60 MB table never sits in memory at once: one batch of ~16 MB at a time.
    expect(sink.peakLive - liveBefore).toBeLessThan(40 * 1024 * 1024);
    const log = readFileSync(server.logFile, 'utf8');
    expect(log).toMatch(/DECLARE leakwatch_rows NO SCROLL CURSOR FOR SELECT \* FROM "public"\."wide"\n/);
    expect(log).toMatch(/FETCH FORWARD \d+ FROM leakwatch_rows/);
  });

  it('reads only inside READ ONLY transactions and changes nothing', async () => {
    const before = await rowCounts();
    const sink = new CollectingSink(Infinity, AbortSignal.timeout(30_000), false);
    await postgresConnector.probe(target, context(sink));
    expect(await rowCounts()).toEqual(before);
    // log_line_prefix is `application|session|`; continuation lines of a statement have no prefix.
    const statements = new Map<string, string[]>();
    for (const line of readFileSync(server.logFile, 'utf8').split('\n')) {
      const match = /^leakwatch\|([^|]+)\|LOG: {2}statement: (.*)$/.exec(line);
      if (match === null) continue;
      const [, session = '', text = ''] = match;
      statements.set(session, [...(statements.get(session) ?? []), text.trim()]);
    }
    const allowed =
      /^(|BEGIN READ ONLY|SET LOCAL (statement|lock)_timeout = \d+|SELECT .*|DECLARE leakwatch_rows NO SCROLL CURSOR FOR SELECT \* FROM "[a-z]+"\."[a-z]+"( LIMIT \d+)?|FETCH FORWARD \d+ FROM leakwatch_rows|SAVEPOINT leakwatch_count|RELEASE SAVEPOINT leakwatch_count|ROLLBACK( TO SAVEPOINT leakwatch_count)?)$/;
    let sampling = 0;
    for (const list of statements.values()) {
      expect(list[0]).toBe('BEGIN READ ONLY');
      for (const statement of list) expect(statement).toMatch(allowed);
      if (list.some((s) => s.startsWith('FETCH') || /^SELECT \* FROM/.test(s))) sampling++;
    }
    expect(sampling).toBeGreaterThanOrEqual(2);
  });

  it('stops at the sampling deadline and still reports the store open', async () => {
    const controller = new AbortController();
    const sink = new CollectingSink(Infinity, controller.signal, false);
    sink.add = () => {
      controller.abort();
    };
    const started = Date.now();
    const result = await postgresConnector.probe(target, context(sink));
    expect(result.status).toBe('open');
    expect(result.detail).toContain('sampling stopped early (sampling deadline reached)');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('end to end: a sampled scan reports fields and no seeded value', async () => {
    const report = await runScan({
      targets: [`postgres://127.0.0.1:${server.port}`],
      sample: { limit: 100, timeoutMs: 10_000 },
    });
    const [entry] = report.targets;
    expect(entry?.status).toBe('open');
    expect(Array.isArray(entry?.fields)).toBe(true);
    expect(entry?.detail).toContain('sampled 230 rows of 3 tables');
    const text = JSON.stringify(report);
    for (const value of [seededEmail(1), seededEmail(100), seededSecret, '+49301000001'])
      expect(text).not.toContain(value);
  });
});

describe('mysql connector samples records for classification (MariaDB 10.11)', () => {
  let server: PrivateMariadb;
  let target: ProbeTarget;

  // Statement counters that any write, DDL or lock would move.
  async function writeCounters(): Promise<Record<string, string>> {
    const rows = (await server.query(
      `SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_insert', 'Com_update', 'Com_delete', 'Com_replace',
         'Com_create_table', 'Com_drop_table', 'Com_alter_table', 'Com_lock_tables', 'Com_grant')`,
    )) as { Variable_name: string; Value: string }[];
    return Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]));
  }

  beforeAll(async () => {
    server = await startMariadb();
    target = { protocol: 'mysql', host: '127.0.0.1', port: server.port };
    // mariadbd listens on TCP a moment before its Unix socket exists; the launcher waits for TCP.
    for (let tries = 0; ; tries++) {
      try {
        await server.query('SELECT 1');
        break;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ENOENT' || tries > 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await server.query(`
      CREATE DATABASE shop; CREATE DATABASE crm; USE shop;
      CREATE TABLE shop.people (id INT PRIMARY KEY, email VARCHAR(100), profile JSON, seen_at DATETIME,
        avatar BLOB, big BIGINT UNSIGNED, amount DECIMAL(10,2), \`__proto__\` TEXT) ENGINE=InnoDB;
      INSERT INTO shop.people SELECT seq, CONCAT('person', seq, '@sampled.example'),
        JSON_OBJECT('contact', JSON_OBJECT('phone', CONCAT('+4930', 1000000 + seq)), 'n', seq),
        TIMESTAMP '2024-03-01 12:00:00' + INTERVAL seq MINUTE, X'DEADBEEF', 9007199254740993 + seq,
        seq * 1.25, '${seededSecret}' FROM seq_1_to_120;
      CREATE TABLE shop.wide (id INT PRIMARY KEY, payload TEXT) ENGINE=InnoDB;
      INSERT INTO shop.wide SELECT seq, REPEAT(MD5(seq), 128) FROM seq_1_to_15000;
      CREATE TABLE crm.leads (id INT) ENGINE=Aria;
      INSERT INTO crm.leads SELECT seq FROM seq_1_to_30;
      ANALYZE TABLE shop.people, shop.wide;
      SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = 1;`);
  });

  afterAll(async () => {
    await server.stop();
  });

  it('hands over exactly `limit` rows per table, as plain JSON-like records named like the collections', async () => {
    const sink = new CollectingSink(10, AbortSignal.timeout(20_000));
    const result = await mysqlConnector.probe(target, context(sink));
    expect(result.status).toBe('open');
    const names = (result.collections ?? []).map((c) => c.name).sort();
    expect(names).toEqual(['crm.leads', 'shop.people', 'shop.wide']);
    expect([...sink.counts.keys()].sort()).toEqual(names);
    for (const name of names) expect(sink.counts.get(name)).toBe(10);
    expect(result.detail).toContain('sampled 30 rows of 3 tables');
    const people = sink.records.get('shop.people') as Record<string, unknown>[];
    const first = people.find((r) => r.id === 1);
    expect(first?.email).toBe(seededEmail(1));
    // JSON arrives parsed, so field paths continue into it (profile.contact.phone).
    expect(first?.profile).toEqual({ contact: { phone: '+49301000001' }, n: 1 });
    expect(first?.seen_at).toMatch(/^2024-03-01T\d\d:01:00\.000Z$/);
    // BIGINT past 2^53 exact (a string), DECIMAL as text, BLOB left out.
    expect(first?.big).toBe('9007199254740994');
    expect(first?.amount).toBe('1.25');
    expect(first).not.toHaveProperty('avatar');
    expect(Object.getOwnPropertyDescriptor(first, '__proto__')?.value).toBe(seededSecret);
  });

  it('streams every row with --full, with bounded memory, writing nothing', async () => {
    const before = await writeCounters();
    const sink = new CollectingSink(Infinity, AbortSignal.timeout(30_000), false);
    const liveBefore = liveBytes();
    const result = await mysqlConnector.probe(target, context(sink));
    expect(result.status).toBe('open');
    expect(Object.fromEntries(sink.counts)).toEqual({
      'shop.people': 120,
      'shop.wide': 15_000,
      'crm.leads': 30,
    });
    expect(result.detail).toContain('sampled 15150 rows of 3 tables');
    // The ~60 MB table streams row by row.
    expect(sink.peakLive - liveBefore).toBeLessThan(40 * 1024 * 1024);
    expect(await writeCounters()).toEqual(before);
    // Every statement the scanner sent over TCP (the seeding ran over the Unix socket).
    const log = (await server.query(
      "SELECT CAST(argument AS CHAR) AS sql_text FROM mysql.general_log WHERE command_type = 'Query' AND user_host LIKE '%127.0.0.1%'",
    )) as { sql_text: string }[];
    const statements = log.map((r) => r.sql_text.replace(/\s+/g, ' ').trim());
    expect(statements).toContain('SELECT `id` AS c0, `payload` AS c1 FROM `shop`.`wide`');
    const allowed =
      /^(SET SESSION (max_statement_time|lock_wait_timeout) = \d+|SET SESSION TRANSACTION READ ONLY|START TRANSACTION READ ONLY|ROLLBACK|SELECT .*)$/;
    for (const statement of statements) expect(statement).toMatch(allowed);
  });

  it('stops at the sampling deadline mid-stream and still reports the store open', async () => {
    const controller = new AbortController();
    const sink = new CollectingSink(Infinity, controller.signal, false);
    sink.add = () => {
      controller.abort();
    };
    const started = Date.now();
    const result = await mysqlConnector.probe(target, context(sink));
    expect(result.status).toBe('open');
    expect(result.detail).toContain('sampling stopped early (sampling deadline reached)');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('end to end: a sampled scan reports fields and no seeded value', async () => {
    const report = await runScan({
      targets: [`mysql://127.0.0.1:${server.port}`],
      sample: { limit: 100, timeoutMs: 10_000 },
    });
    const [entry] = report.targets;
    expect(entry?.status).toBe('open');
    expect(Array.isArray(entry?.fields)).toBe(true);
    expect(entry?.detail).toContain('sampled 230 rows of 3 tables');
    const text = JSON.stringify(report);
    for (const value of [seededEmail(1), seededEmail(100), seededSecret, '+49301000001'])
      expect(text).not.toContain(value);
  });
});
