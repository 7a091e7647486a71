import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import mysql from 'mysql2/promise';
import { LimitError, ProtocolError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo, ServerInfo, StoreSize } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult, ProbeTarget, RecordSink } from './connector.js';
import { probeFailure } from './network-failure.js';
import { plainRecord } from './plain-record-value.js';
import { TcpSession } from './tcp-session.js';

// Client/server protocol, connection phase:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html
// A packet is int<3> payload length (little-endian), int<1> sequence id, then the payload.
const maxHandshakePacket = 4096;
const clientLongPassword = 0x1;
const clientLongFlag = 0x4;
const clientProtocol41 = 0x200;
const clientTransactions = 0x2000;
const clientSecureConnection = 0x8000;
const clientPluginAuth = 0x80000;
const utf8mb4GeneralCi = 45;

const tableCap = 1000;
const exactCountCap = 200;
// InnoDB's TABLE_ROWS is an estimate; below this an exact count is cheap, and the LIMIT keeps it
// cheap even when the estimate is stale.
const exactCountBelow = 10_000;
// Engines whose TABLE_ROWS is the exact row count.
const exactEngines = new Set(['MyISAM', 'Aria', 'MEMORY']);
const systemSchemas = ['mysql', 'information_schema', 'performance_schema', 'sys'];

// Frames one packet of the connection phase. The server speaks first, so the first packet is its
// greeting: sequence 0 and protocol version 10 (HandshakeV10), or an ERR packet (0xff).
function packetReader(expectGreeting: boolean) {
  return (buffer: Buffer): number | undefined => {
    if (buffer.length < 4) return undefined;
    const length = buffer.readUIntLE(0, 3);
    if (expectGreeting && buffer[3] !== 0)
      throw new ProtocolError('answer is not a MySQL greeting (sequence id)');
    if (length === 0 || length > maxHandshakePacket)
      throw new ProtocolError('answer is not a MySQL packet (implausible length)');
    if (expectGreeting && buffer.length > 4 && buffer[4] !== 0x0a && buffer[4] !== 0xff)
      throw new ProtocolError('answer is not a MySQL greeting (protocol version)');
    return buffer.length >= length + 4 ? length + 4 : undefined;
  };
}

interface Greeting {
  version: string;
  capabilities: number;
  authPlugin: string;
}

function cString(payload: Buffer, at: number): { text: string; next: number } {
  const end = payload.indexOf(0, at);
  const stop = end < 0 ? payload.length : end;
  return { text: payload.toString('latin1', at, stop), next: stop + 1 };
}

// HandshakeV10: version NUL, thread id (4), auth data 1 (8), filler (1), capabilities low (2),
// charset (1), status (2), capabilities high (2), auth data length (1), reserved (10), auth data 2
// (max(13, length - 8)), auth plugin name NUL.
function parseGreeting(payload: Buffer): Greeting {
  const { text: version, next } = cString(payload, 1);
  let at = next + 4 + 8 + 1;
  if (payload.length < at + 2) throw new ProtocolError('MySQL greeting too short');
  let capabilities = payload.readUInt16LE(at);
  at += 2;
  let authPlugin = 'mysql_native_password';
  if (payload.length >= at + 16) {
    capabilities |= payload.readUInt16LE(at + 3) << 16;
    const authDataLength = payload[at + 5] ?? 0;
    at += 16 + Math.max(13, authDataLength - 8);
    if (capabilities & clientPluginAuth && at < payload.length) authPlugin = cString(payload, at).text;
  }
  return { version, capabilities: capabilities >>> 0, authPlugin: sanitizeText(authPlugin, 64) };
}

// ERR packet: 0xff, error code int<2>, optional '#' + SQL state (5), message.
function parseError(payload: Buffer): { code: number; message: string } {
  const code = payload.length >= 3 ? payload.readUInt16LE(1) : 0;
  const start = payload[3] === 0x23 ? 9 : 3;
  return { code, message: sanitizeText(payload.toString('utf8', start)) };
}

// MariaDB answers `5.5.5-10.11.6-MariaDB-0+deb12u1` (the prefix keeps old clients happy);
// MySQL answers `8.0.36` or `8.0.36-0ubuntu0.22.04.1`.
function serverInfo(version: string): ServerInfo {
  const product = /mariadb/i.test(version) ? 'mariadb' : 'mysql';
  const stripped = product === 'mariadb' ? version.replace(/^5\.5\.5-/, '') : version;
  const number = /^\d+(?:\.\d+)*/.exec(stripped)?.[0];
  return number === undefined ? { product } : { product, version: number };
}

function packet(sequence: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUIntLE(payload.length, 0, 3);
  head[3] = sequence;
  return Buffer.concat([head, payload]);
}

// HandshakeResponse41 with an empty auth response: the one login this connector tries on its own.
function emptyPasswordLogin(greeting: Greeting, user: string): Buffer {
  const flags =
    clientLongPassword |
    clientLongFlag |
    clientProtocol41 |
    clientTransactions |
    clientSecureConnection |
    (greeting.capabilities & clientPluginAuth);
  const head = Buffer.alloc(32);
  head.writeUInt32LE(flags >>> 0, 0);
  head.writeUInt32LE(16 * 1024 * 1024, 4);
  head[8] = utf8mb4GeneralCi;
  const parts = [head, Buffer.from(`${user}\0`, 'utf8'), Buffer.from([0])];
  if (flags & clientPluginAuth) parts.push(Buffer.from(`${greeting.authPlugin}\0`, 'latin1'));
  return Buffer.concat(parts);
}

// What a client sends for an empty password when the server switches plugins: nothing for
// mysql_native_password, one NUL for the SHA-256 family and the cleartext plugin.
const emptyAnswers: Record<string, Buffer> = {
  mysql_native_password: Buffer.alloc(0),
  caching_sha2_password: Buffer.from([0]),
  sha256_password: Buffer.from([0]),
  mysql_clear_password: Buffer.from([0]),
};

type Login =
  | { kind: 'ok' }
  | { kind: 'denied'; message: string }
  | { kind: 'unsupported'; plugin: string }
  | { kind: 'greeting-error'; code: number; message: string };

interface Handshake {
  greeting?: Greeting;
  login?: Login;
}

/**
 * Reads the greeting raw (product and version even without credentials) and, when `user` is
 * given, completes a login with an empty password on the same connection. A finished exchange,
 * rather than a dropped one, keeps the server's per-host "connection errors" counter
 * (max_connect_errors, which blocks the host) untouched.
 */
async function handshake(
  target: ProbeTarget,
  ctx: ProbeContext,
  user: string | undefined,
): Promise<Handshake> {
  const session = await TcpSession.open({
    host: target.host,
    port: target.port,
    signal: ctx.signal,
    maxBytes: Math.min(ctx.maxBytes, 64 * 1024),
  });
  try {
    const first = await session.request(undefined, packetReader(true));
    const payload = first.subarray(4);
    if (payload[0] === 0xff) {
      const { code, message } = parseError(payload);
      return { login: { kind: 'greeting-error', code, message } };
    }
    const greeting = parseGreeting(payload);
    if (user === undefined) return { greeting };
    if (!(greeting.capabilities & clientProtocol41))
      throw new ProtocolError('server speaks only the pre-4.1 MySQL protocol');
    const loggedIn = async (): Promise<Handshake> => {
      // COM_QUIT, so the server sees an orderly goodbye; it closes without answering, so do not
      // wait long for that.
      const quit = session.request(packet(0, Buffer.from([0x01])), () => undefined).catch(() => undefined);
      await Promise.race([quit, new Promise((r) => setTimeout(r, 200))]);
      return { greeting, login: { kind: 'ok' } };
    };
    let sequence = 1;
    let answer = emptyPasswordLogin(greeting, user);
    for (let round = 0; round < 4; round++) {
      const reply = (await session.request(packet(sequence, answer), packetReader(false))).subarray(4);
      if (reply[0] === 0x00) return await loggedIn();
      if (reply[0] === 0xff)
        return { greeting, login: { kind: 'denied', message: parseError(reply).message } };
      if (reply[0] === 0xfe) {
        // AuthSwitchRequest: plugin name NUL, plugin data.
        const plugin = sanitizeText(cString(reply, 1).text, 64);
        const empty = emptyAnswers[plugin];
        if (empty === undefined) return { greeting, login: { kind: 'unsupported', plugin } };
        answer = empty;
        // Our packet had `sequence`, the server's reply the next one; ours follows that.
        sequence += 2;
        continue;
      }
      if (reply[0] === 0x01 && reply[1] === 0x03) {
        // caching_sha2_password "fast auth success"; the OK packet follows.
        const ok = (await session.request(undefined, packetReader(false))).subarray(4);
        if (ok[0] === 0x00) return await loggedIn();
        return { greeting, login: { kind: 'denied', message: parseError(ok).message } };
      }
      if (reply[0] === 0x01) return { greeting, login: { kind: 'unsupported', plugin: greeting.authPlugin } };
      throw new ProtocolError('unexpected MySQL authentication reply');
    }
    throw new ProtocolError('MySQL authentication did not finish');
  } finally {
    session.close();
  }
}

// Typed as the driver may hand them over from a hostile peer, not as a real server would send them.
interface TableRow {
  schema: unknown;
  name: unknown;
  engine: unknown;
  estimate: unknown;
  bytes: unknown;
}

// A count or size from the peer: a non-negative finite number (BIGINT or DECIMAL text), else unknown.
function toCount(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

const schemaFilter = `TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
   AND TABLE_SCHEMA NOT IN (${systemSchemas.map((s) => `'${s}'`).join(', ')})`;

const tablesSql = `
SELECT TABLE_SCHEMA AS \`schema\`, TABLE_NAME AS name, ENGINE AS engine,
       CAST(TABLE_ROWS AS UNSIGNED) AS estimate, CAST(DATA_LENGTH + INDEX_LENGTH AS UNSIGNED) AS bytes
  FROM information_schema.TABLES
 WHERE ${schemaFilter}
 ORDER BY DATA_LENGTH + INDEX_LENGTH DESC, TABLE_SCHEMA, TABLE_NAME
 LIMIT ${tableCap + 1}`;

const totalsSql = `
SELECT COUNT(*) AS tables, COALESCE(SUM(TABLE_ROWS), 0) AS records,
       COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) AS bytes
  FROM information_schema.TABLES
 WHERE ${schemaFilter}`;

function quoteId(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** Deadline and byte cap of one driver connection. */
interface DriverIo {
  signal: AbortSignal;
  /** Cap on bytes received in one window (the whole session unless `newWindow` is called). */
  maxBytes: number;
  /**
   * Sampling reads: BIGINT beyond 2^53 as exact strings rather than rounded numbers (ids, phone
   * numbers and account numbers must stay what they are).
   */
  exactNumbers?: boolean;
}

interface Driver {
  connection: mysql.Connection;
  /** Starts a new byte-cap window: the cap then bounds one row of a stream, not the session. */
  newWindow(): void;
  received(): number;
  /** False once the socket is gone (byte cap, deadline, peer hung up). */
  alive(): boolean;
  /** Drops the socket at once (a stream left half-read). */
  destroy(): void;
  /** Calls `listener` once the socket closes (at once if it has); returns the unsubscribe. */
  onLost(listener: (error: Error) => void): () => void;
  close: () => Promise<void>;
}

/**
 * A mysql2 connection on a socket we own: destroyed when the probe's AbortSignal fires or when the
 * peer sends more than `maxBytes`, so the driver can neither outlive the probe nor buffer without
 * bound.
 */
async function openDriver(
  target: ProbeTarget,
  io: DriverIo,
  user: string,
  connectTimeoutMs: number,
): Promise<Driver> {
  io.signal.throwIfAborted();
  let received = 0;
  let windowStart = 0;
  let overflow: LimitError | undefined;
  const socket: Socket = connect({ host: target.host, port: target.port, noDelay: true });
  const abort = (): void => {
    socket.destroy(new Error('aborted', { cause: io.signal.reason }));
  };
  io.signal.addEventListener('abort', abort, { once: true });
  socket.once('close', () => {
    io.signal.removeEventListener('abort', abort);
  });
  const onLost = (listener: (error: Error) => void): (() => void) => {
    const fire = (): void => {
      listener(overflow ?? new Error('connection closed'));
    };
    if (socket.destroyed) {
      fire();
      return () => undefined;
    }
    socket.once('close', fire);
    return () => socket.off('close', fire);
  };
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received - windowStart > io.maxBytes && overflow === undefined) {
      overflow = new LimitError(`answers larger than ${io.maxBytes} bytes in one response`);
      socket.destroy(overflow);
    }
  });
  let connection: mysql.Connection | undefined;
  const close = async (): Promise<void> => {
    if (connection !== undefined)
      await Promise.race([connection.end().catch(() => undefined), new Promise((r) => setTimeout(r, 300))]);
    socket.destroy();
  };
  try {
    connection = await mysql.createConnection({
      host: target.host,
      port: target.port,
      user,
      password: target.password ?? '',
      stream: () => socket,
      connectTimeout: Math.max(1, connectTimeoutMs),
      multipleStatements: false,
      debug: false,
      ...(io.exactNumbers === true ? { supportBigNumbers: true } : {}),
    });
  } catch (error) {
    await close();
    throw overflow ?? error;
  }
  // A connection whose socket dies while idle emits 'error'; unhandled, that would crash the process.
  connection.on('error', () => undefined);
  return {
    connection,
    newWindow: () => {
      windowStart = received;
    },
    received: () => received,
    alive: () => !socket.destroyed,
    destroy: () => {
      socket.destroy();
    },
    onLost,
    close,
  };
}

/** A table to read records from, as named in `collections`. */
interface SampleTable {
  schema: string;
  name: string;
  collection: string;
}

interface Survey {
  collections: CollectionInfo[];
  /** Every listed table, biggest first. */
  sampleable: SampleTable[];
  size: StoreSize;
  schemas: number;
}

async function survey(
  connection: mysql.Connection,
  product: string,
  remainingMs: () => number,
  inTime: () => boolean,
): Promise<Survey> {
  const seconds = Math.max(1, Math.floor(remainingMs() / 1000));
  // Best effort: servers older than MySQL 5.7.8 / MariaDB 10.1 lack these variables, and the
  // statements that follow are plain SELECTs either way.
  const settings = [
    product === 'mariadb'
      ? `SET SESSION max_statement_time = ${seconds}`
      : `SET SESSION max_execution_time = ${seconds * 1000}`,
    `SET SESSION lock_wait_timeout = ${Math.min(seconds, 2)}`,
    'SET SESSION TRANSACTION READ ONLY',
  ];
  for (const sql of settings) await connection.query({ sql, timeout: remainingMs() }).catch(() => undefined);
  await connection.query({ sql: 'START TRANSACTION READ ONLY', timeout: remainingMs() });
  try {
    const [rows] = await connection.query<(mysql.RowDataPacket & TableRow)[]>({
      sql: tablesSql,
      timeout: remainingMs(),
    });
    const listed = rows.slice(0, tableCap);
    let approximate = rows.length > tableCap;
    let countsLeft = exactCountCap;
    const collections: CollectionInfo[] = [];
    const sampleable: SampleTable[] = [];
    let records = 0;
    let bytes = 0;
    for (const row of listed) {
      const estimate = toCount(row.estimate);
      const schema = String(row.schema);
      const name = String(row.name);
      let count: number | undefined;
      if ((estimate === undefined || estimate < exactCountBelow) && countsLeft > 0 && inTime()) {
        countsLeft--;
        try {
          const [result] = await connection.query<(mysql.RowDataPacket & { n: unknown })[]>({
            sql: `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${quoteId(schema)}.${quoteId(name)} LIMIT ${exactCountBelow + 1}) AS t`,
            timeout: remainingMs(),
          });
          count = toCount(result[0]?.n);
        } catch {
          // No SELECT privilege, a crashed table, a lock wait: fall back to the estimate.
        }
      }
      if (count !== undefined && count > exactCountBelow) {
        count = Math.max(count, estimate ?? 0);
        approximate = true;
      } else if (count === undefined) {
        count = estimate;
        if (!(typeof row.engine === 'string' && exactEngines.has(row.engine) && estimate !== undefined))
          approximate = true;
      }
      const collection: CollectionInfo = { name: sanitizeText(`${schema}.${name}`) };
      if (count !== undefined) {
        collection.records = count;
        records += count;
      }
      const size = toCount(row.bytes);
      if (size !== undefined) {
        collection.bytes = size;
        bytes += size;
      }
      collections.push(collection);
      sampleable.push({ schema, name, collection: collection.name });
    }
    let tables = listed.length;
    if (rows.length > tableCap) {
      const [totals] = await connection.query<
        (mysql.RowDataPacket & { tables: unknown; records: unknown; bytes: unknown })[]
      >({ sql: totalsSql, timeout: remainingMs() });
      const row = totals[0];
      if (row !== undefined) {
        const listedEstimates = listed.reduce((sum, r) => sum + (toCount(r.estimate) ?? 0), 0);
        tables = toCount(row.tables) ?? tables;
        records += Math.max(0, (toCount(row.records) ?? 0) - listedEstimates);
        bytes = Math.max(bytes, toCount(row.bytes) ?? 0);
      }
    }
    const size: StoreSize = { collections: tables, records, bytes };
    if (approximate) size.approximate = true;
    return { collections, sampleable, size, schemas: new Set(listed.map((r) => String(r.schema))).size };
  } finally {
    await connection.query({ sql: 'ROLLBACK', timeout: remainingMs() }).catch(() => undefined);
  }
}

// One row may hold this much (a LONGBLOB or LONGTEXT); a bigger one ends that table's read, not the
// process's memory. Rows stream one at a time, so this bounds memory however long the table is.
const sampleRowBytes = 64 * 1024 * 1024;
// Per store: a sample reads a bounded amount; `--full` reads everything up to a ceiling that only
// a very large store reaches, within sampling's own deadline.
const sampleStoreBytes = 512 * 1024 * 1024;
const fullStoreBytes = 64 * 1024 * 1024 * 1024;
// Server-side cap of one LIMIT query. A `--full` stream has none (it legitimately runs long): the
// sampling deadline destroys the socket, and the server stops at its next write.
const sampleStatementSeconds = 30;
// A connection spent on one table (byte cap, peer hung up) is replaced at most this often.
const sampleReopens = 3;
// MySQL allows 4096 columns per table, InnoDB 1017.
const maxColumns = 4096;

// Rows come as arrays (rowsAsArray), so a column named `__proto__` stays a column.
function toRecord(names: readonly string[], row: readonly unknown[]): Record<string, unknown> {
  return plainRecord(names.map((name, i) => [name, row[i]] as const));
}

/**
 * The part of mysql2 that streams: the callback connection a promise connection wraps (there at
 * run time as `.connection`, missing from mysql2/promise's typings) and its query's Readable.
 */
interface Streaming {
  connection: {
    query(options: { sql: string; rowsAsArray: boolean }): {
      stream(options: { highWaterMark: number }): Readable;
    };
  };
}

/**
 * Streams up to `limit` rows of one table, in its own READ ONLY transaction (short, so InnoDB's
 * purge is not held back for a whole `--full` read), into the sink, one row in memory at a time:
 * the stream pauses the socket while the sink is busy. Returns the rows read.
 *
 * Columns are selected by position under neutral aliases, named from information_schema: mysql2
 * fails a whole result (and its stream never ends) on a column it refuses as a key, such as
 * `__proto__`, and a hostile table may have one.
 */
async function sampleTable(
  driver: Driver,
  table: SampleTable,
  limit: number,
  sampler: RecordSink,
  overBudget: () => boolean,
): Promise<number> {
  const { connection } = driver;
  await connection.query('START TRANSACTION READ ONLY');
  let rows = 0;
  try {
    const [columns] = await connection.query<(mysql.RowDataPacket & { name: unknown })[]>({
      sql: `SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION LIMIT ${maxColumns}`,
      values: [table.schema, table.name],
    });
    const names = columns.map((c) => String(c.name));
    // Every table has a column; none visible means no privilege on any.
    if (names.length === 0) throw new Error('no readable column');
    const list = names.map((name, i) => `${quoteId(name)} AS c${i}`).join(', ');
    const bounded = Number.isFinite(limit) ? ` LIMIT ${limit}` : '';
    const query = (connection as unknown as Streaming).connection.query({
      sql: `SELECT ${list} FROM ${quoteId(table.schema)}.${quoteId(table.name)}${bounded}`,
      rowsAsArray: true,
    });
    const stream = query.stream({ highWaterMark: 64 });
    // A stream whose connection died may never end: the socket's close ends it with an error.
    const off = driver.onLost((error) => stream.destroy(error));
    driver.newWindow();
    try {
      for await (const row of stream as AsyncIterable<unknown>) {
        driver.newWindow();
        if (Array.isArray(row)) sampler.add(table.collection, toRecord(names, row));
        rows++;
        // Leaving a stream half-read would leave the connection mid-result: end the session instead.
        if (overBudget()) {
          driver.destroy();
          break;
        }
      }
    } finally {
      off();
    }
    return rows;
  } finally {
    if (driver.alive()) await connection.query('ROLLBACK').catch(() => undefined);
  }
}

/**
 * Reads records of every surveyed table for classification, on a connection of its own that hangs
 * on sampling's deadline rather than the probe's. Returns a one-line summary of counts (no values).
 */
async function sampleStore(
  target: ProbeTarget,
  ctx: ProbeContext,
  user: string,
  product: string,
  sampler: RecordSink,
  tables: readonly SampleTable[],
): Promise<string> {
  // Finite limits print as digits in SQL (1e21 would print as an exponent).
  const limit =
    sampler.limit === Infinity ? Infinity : Math.min(Math.floor(sampler.limit), Number.MAX_SAFE_INTEGER);
  if (!(limit > 0)) return 'no records sampled (limit 0)';
  const storeCap = limit === Infinity ? fullStoreBytes : sampleStoreBytes;
  const io: DriverIo = {
    signal: sampler.signal,
    maxBytes: Math.max(ctx.maxBytes, sampleRowBytes),
    exactNumbers: true,
  };
  const seconds = limit === Infinity ? 0 : sampleStatementSeconds;
  const settings = [
    product === 'mariadb'
      ? `SET SESSION max_statement_time = ${seconds}`
      : `SET SESSION max_execution_time = ${seconds * 1000}`,
    'SET SESSION lock_wait_timeout = 2',
    'SET SESSION TRANSACTION READ ONLY',
  ];
  const tally = { tables: 0, rows: 0, failed: 0, bytes: 0, stopped: undefined as string | undefined };
  let next = 0;
  try {
    for (let reopens = 0; next < tables.length && tally.stopped === undefined; reopens++) {
      if (reopens > sampleReopens) {
        tally.failed += tables.length - next;
        break;
      }
      let driver: Driver;
      try {
        driver = await openDriver(target, io, user, ctx.timeoutMs);
      } catch (error) {
        if (sampler.signal.aborted) throw error;
        tally.failed += tables.length - next;
        break;
      }
      try {
        for (const sql of settings) await driver.connection.query(sql).catch(() => undefined);
        while (next < tables.length && driver.alive()) {
          if (tally.bytes >= storeCap) {
            tally.stopped = `${storeCap / 1024 ** 2} MiB read`;
            break;
          }
          const table = tables[next++] as SampleTable;
          const before = driver.received();
          const overBudget = (): boolean => tally.bytes + driver.received() - before >= storeCap;
          try {
            tally.rows += await sampleTable(driver, table, limit, sampler, overBudget);
            tally.tables++;
          } catch (error) {
            if (sampler.signal.aborted) throw error;
            // No SELECT privilege, a crashed table, a lock wait, a row over the byte cap.
            tally.failed++;
          } finally {
            tally.bytes += driver.received() - before;
          }
        }
      } finally {
        await driver.close();
      }
    }
  } catch (error) {
    if (!sampler.signal.aborted) throw error;
    tally.stopped = 'sampling deadline reached';
  }
  if (tally.bytes >= storeCap) tally.stopped ??= `${storeCap / 1024 ** 2} MiB read`;
  return [
    `sampled ${tally.rows} rows of ${tally.tables} tables`,
    ...(tally.failed > 0 ? [`${tally.failed} tables not readable`] : []),
    ...(tally.stopped === undefined ? [] : [`sampling stopped early (${tally.stopped})`]),
  ].join(', ');
}

function greetingErrorResult(code: number, message: string): ProbeResult {
  // ER_HOST_NOT_PRIVILEGED: no account may connect from our address. Not open to us.
  if (code === 1130) return { status: 'auth-required', detail: `server refuses this host: ${message}` };
  return { status: 'error', detail: `server refused the connection (${code}): ${message}` };
}

/**
 * MySQL and MariaDB. The greeting is read raw, which gives product and version before any login.
 * Open when `root` or the anonymous user logs in with an empty password, or the target's own
 * credentials do; nothing else is tried. Sizes come from information_schema.TABLES inside a
 * READ ONLY transaction, with exact bounded counts for small tables; collections are
 * `schema.table`. A database in the target's path does not narrow the survey: every schema the
 * login can see is exposed alike.
 */
export const mysqlConnector = {
  defaultPorts: [3306],
  async probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
    const started = Date.now();
    const remainingMs = (): number => Math.max(1, ctx.timeoutMs - (Date.now() - started));
    // Stop counting well before the deadline, so an open server is reported as open.
    const inTime = (): boolean => Date.now() - started < ctx.timeoutMs * 0.6;
    let close: (() => Promise<void>) | undefined;
    try {
      let greeting: Greeting | undefined;
      let user: string | undefined;
      let how: string;
      if (target.password === undefined) {
        // No password named: the named user, else root, else anonymous, each with an empty password.
        const candidates = target.username === undefined ? ['root', ''] : [target.username];
        const refusals: string[] = [];
        let message: string | undefined;
        for (const candidate of candidates) {
          const shake = await handshake(target, ctx, candidate);
          greeting ??= shake.greeting;
          const login = shake.login;
          if (login?.kind === 'greeting-error') return greetingErrorResult(login.code, login.message);
          if (login?.kind === 'ok') {
            user = candidate;
            break;
          }
          const name = candidate === '' ? 'anonymous' : sanitizeText(candidate, 64);
          if (login?.kind === 'unsupported') refusals.push(`${name} needs the ${login.plugin} plugin`);
          else refusals.push(`${name} denied`);
          if (login?.kind === 'denied') message ??= login.message;
        }
        const server = greeting === undefined ? undefined : serverInfo(greeting.version);
        if (user === undefined) {
          const why = message === undefined ? '' : ` (${message})`;
          const detail = `no login without a password: ${refusals.join(', ')}${why}`;
          return { status: 'auth-required', detail, ...(server ? { server } : {}) };
        }
        how =
          user === ''
            ? 'anonymous login accepted without a password'
            : `login as ${sanitizeText(user, 64)} accepted with an empty password`;
      } else {
        // A password needs the driver's auth plugins, so this greeting-only look is dropped
        // unanswered; the driver's login that follows resets the host's error counter on success.
        const shake = await handshake(target, ctx, undefined);
        if (shake.login?.kind === 'greeting-error')
          return greetingErrorResult(shake.login.code, shake.login.message);
        greeting = shake.greeting;
        user = target.username ?? 'root';
        how = `the given credentials for ${sanitizeText(user, 64)} read data`;
      }
      const server = greeting === undefined ? { product: 'mysql' } : serverInfo(greeting.version);
      let driver: Awaited<ReturnType<typeof openDriver>>;
      try {
        driver = await openDriver(
          target,
          { signal: ctx.signal, maxBytes: ctx.maxBytes },
          user,
          remainingMs(),
        );
      } catch (error) {
        const errno = (error as { errno?: unknown }).errno;
        if (errno === 1045 || errno === 1044 || errno === 1130)
          return { status: 'auth-required', detail: 'server rejected the given credentials', server };
        throw error;
      }
      close = driver.close;
      const login = user;
      // The store is open: read records for classification when the scan classifies.
      const withSample = async (
        result: ProbeResult,
        tables: readonly SampleTable[],
      ): Promise<ProbeResult> => {
        if (ctx.sampler === undefined) return result;
        await close?.();
        close = undefined;
        let note: string;
        try {
          note = await sampleStore(target, ctx, login, server.product, ctx.sampler, tables);
        } catch (error) {
          // Messages of a failed read may quote values; only the class of failure is reported.
          note = `sampling failed (${error instanceof Error ? sanitizeText(error.name, 40) : 'error'})`;
        }
        return { ...result, detail: `${result.detail}; ${note}` };
      };
      let surveyed: Survey;
      try {
        surveyed = await survey(driver.connection, server.product, remainingMs, inTime);
      } catch (error) {
        // The login already proved the store open; a survey cut short only leaves sizes unknown.
        const why = probeFailure(error, ctx).detail;
        return { status: 'open', detail: `${how}; survey cut short: ${why}`, server };
      }
      const { collections, size, schemas } = surveyed;
      const result: ProbeResult = {
        status: 'open',
        detail: `${how}; ${size.collections} tables, ${size.records} records in ${schemas} schemas`,
        server,
        size,
        collections,
      };
      if (size.records === 0) result.indicators = ['empty'];
      return await withSample(result, surveyed.sampleable);
    } catch (error) {
      return probeFailure(error, ctx);
    } finally {
      await close?.();
    }
  },
} satisfies Connector;
