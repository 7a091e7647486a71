import { connect, type Socket } from 'node:net';
import mysql from 'mysql2/promise';
import { LimitError, ProtocolError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo, ServerInfo, StoreSize } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult, ProbeTarget } from './connector.js';
import { probeFailure } from './network-failure.js';
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

/**
 * A mysql2 connection on a socket we own: destroyed when the probe's AbortSignal fires or when the
 * peer sends more than `maxBytes`, so the driver can neither outlive the probe nor buffer without
 * bound.
 */
async function openDriver(
  target: ProbeTarget,
  ctx: ProbeContext,
  user: string,
  remainingMs: () => number,
): Promise<{ connection: mysql.Connection; close: () => Promise<void> }> {
  ctx.signal.throwIfAborted();
  let received = 0;
  let overflow: LimitError | undefined;
  const socket: Socket = connect({ host: target.host, port: target.port, noDelay: true });
  const abort = (): void => {
    socket.destroy(new Error('aborted', { cause: ctx.signal.reason }));
  };
  ctx.signal.addEventListener('abort', abort, { once: true });
  socket.once('close', () => {
    ctx.signal.removeEventListener('abort', abort);
  });
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > ctx.maxBytes && overflow === undefined) {
      overflow = new LimitError(`answers larger than ${ctx.maxBytes} bytes in one session`);
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
      connectTimeout: Math.max(1, remainingMs()),
      multipleStatements: false,
      debug: false,
    });
  } catch (error) {
    await close();
    throw overflow ?? error;
  }
  // A connection whose socket dies while idle emits 'error'; unhandled, that would crash the process.
  connection.on('error', () => undefined);
  return { connection, close };
}

interface Survey {
  collections: CollectionInfo[];
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
    return { collections, size, schemas: new Set(listed.map((r) => String(r.schema))).size };
  } finally {
    await connection.query({ sql: 'ROLLBACK', timeout: remainingMs() }).catch(() => undefined);
  }
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
        driver = await openDriver(target, ctx, user, remainingMs);
      } catch (error) {
        const errno = (error as { errno?: unknown }).errno;
        if (errno === 1045 || errno === 1044 || errno === 1130)
          return { status: 'auth-required', detail: 'server rejected the given credentials', server };
        throw error;
      }
      close = driver.close;
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
      return result;
    } catch (error) {
      return probeFailure(error, ctx);
    } finally {
      await close?.();
    }
  },
} satisfies Connector;
