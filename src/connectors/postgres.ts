import { Socket } from 'node:net';
import pg from 'pg';
import { LimitError, ProtocolError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo, StoreSize } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult, ProbeTarget, RecordSink } from './connector.js';
import { probeFailure } from './network-failure.js';
import { plainRecord } from './plain-record-value.js';
import { TcpSession } from './tcp-session.js';

// Frontend/backend protocol 3.0, https://www.postgresql.org/docs/current/protocol-message-formats.html
const protocolVersion = 196608;
// Every message is Byte1(type) Int32(length, counting itself). The first answer to a StartupMessage
// is an authentication request, an ErrorResponse or (newer servers) NegotiateProtocolVersion; after
// AuthenticationOk come ParameterStatus, BackendKeyData, NoticeResponse and ReadyForQuery.
const startupReplyTypes = new Set(['R', 'E', 'v', 'N', 'S', 'K', 'Z']);
const firstReplyTypes = new Set(['R', 'E', 'v', 'N']);
// Authentication requests are tiny (SASL lists a few mechanism names); other startup messages
// carry short text. Anything bigger is not a PostgreSQL server talking to a fresh client.
const maxAuthMessage = 1024;
const maxStartupMessage = 16 * 1024;
const maxStartupMessages = 256;

const databaseCap = 20;
const tableCap = 1000;
const exactCountCap = 200;
// Below this many estimated rows a bounded exact count is cheap; the LIMIT keeps it cheap even
// when the estimate is stale.
const exactCountBelow = 10_000;

const authMethods: Record<number, string> = {
  2: 'Kerberos V5',
  3: 'a cleartext password',
  5: 'an MD5 password',
  7: 'GSSAPI',
  9: 'SSPI',
};

function readBackendMessage(buffer: Buffer, first: boolean): number | undefined {
  const type = String.fromCharCode(buffer[0] ?? 0);
  if (!(first ? firstReplyTypes : startupReplyTypes).has(type))
    throw new ProtocolError('answer is not a PostgreSQL startup reply');
  if (buffer.length < 5) return undefined;
  const length = buffer.readUInt32BE(1);
  if (length < 4 || length > (type === 'R' ? maxAuthMessage : maxStartupMessage))
    throw new ProtocolError('answer is not a PostgreSQL message (implausible length)');
  return buffer.length >= length + 1 ? length + 1 : undefined;
}

function startupMessage(user: string, database: string): Buffer {
  const params = ['user', user, 'database', database, 'application_name', 'leakwatch'];
  const body = Buffer.from(`${params.join('\0')}\0\0`, 'utf8');
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.writeUInt32BE(protocolVersion, 4);
  return Buffer.concat([head, body]);
}

// ErrorResponse/NoticeResponse: (Byte1 field type, String value)* then a zero byte.
function errorFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const end = body.indexOf(0, at + 1);
    if (end < 0) break;
    fields.set(String.fromCharCode(body[at] ?? 0), body.toString('utf8', at + 1, end));
    at = end + 1;
  }
  return fields;
}

// NUL-terminated strings, as in SASL mechanism lists and ParameterStatus.
function cStrings(body: Buffer): string[] {
  return body
    .toString('utf8')
    .split('\0')
    .filter((s) => s !== '');
}

type Precheck =
  | { kind: 'login'; version?: string; missingDatabase?: boolean }
  | { kind: 'auth'; method: string }
  | { kind: 'refused'; code: string; message: string };

/**
 * Speaks the startup handshake raw, so a peer that is not PostgreSQL (or streams garbage or a
 * huge length) is caught under TcpSession's caps before the `pg` driver, which buffers whatever it
 * is sent, ever meets it. It also tells which authentication the server wants without a driver.
 */
async function precheck(
  target: ProbeTarget,
  ctx: ProbeContext,
  user: string,
  database: string,
): Promise<Precheck> {
  const session = await TcpSession.open({
    host: target.host,
    port: target.port,
    signal: ctx.signal,
    maxBytes: Math.min(ctx.maxBytes, maxStartupMessages * maxStartupMessage),
  });
  try {
    let loggedIn = false;
    let version: string | undefined;
    let first = true;
    for (let n = 0; n < maxStartupMessages; n++) {
      const frame = await session.request(n === 0 ? startupMessage(user, database) : undefined, (b) =>
        readBackendMessage(b, first),
      );
      first = false;
      const type = String.fromCharCode(frame[0] ?? 0);
      const body = frame.subarray(5);
      if (type === 'R') {
        const code = body.length >= 4 ? body.readUInt32BE(0) : -1;
        if (code === 0) {
          loggedIn = true;
          continue;
        }
        if (loggedIn) throw new ProtocolError('authentication request after AuthenticationOk');
        if (code === 10) {
          const mechanisms = cStrings(body.subarray(4)).map((m) => sanitizeText(m, 40));
          return { kind: 'auth', method: mechanisms.length > 0 ? mechanisms.join(' or ') : 'SASL' };
        }
        const method = authMethods[code];
        if (method === undefined)
          throw new ProtocolError(`unknown PostgreSQL authentication request ${code}`);
        return { kind: 'auth', method };
      }
      if (type === 'E') {
        const fields = errorFields(body);
        const code = fields.get('C') ?? '';
        // invalid_catalog_name after AuthenticationOk: the login worked, the database is missing.
        if (loggedIn && code === '3D000') return { kind: 'login', missingDatabase: true };
        return { kind: 'refused', code, message: fields.get('M') ?? 'no message' };
      }
      if (type === 'S') {
        const [name, value] = cStrings(body);
        if (name === 'server_version' && value !== undefined) version = value;
      }
      if (type === 'Z') {
        if (!loggedIn) throw new ProtocolError('ReadyForQuery before authentication');
        // Closing an idle session is silent on the server side; no Terminate needed.
        return version === undefined ? { kind: 'login' } : { kind: 'login', version };
      }
    }
    throw new ProtocolError('no ReadyForQuery in the startup replies');
  } finally {
    session.close();
  }
}

interface DriverSession {
  client: pg.Client;
  /**
   * Starts a new byte-cap window: from here on the cap bounds the next response (one row batch)
   * rather than the whole session, so a `--full` read streams without buffering without bound.
   */
  newWindow(): void;
  /** Bytes received over the whole session. */
  received(): number;
  /** False once the socket is gone (byte cap, deadline, peer hung up): the session is spent. */
  alive(): boolean;
  close(): Promise<void>;
}

/** Deadline, byte cap and socket registry of the driver sessions of one phase (survey or sampling). */
interface DriverIo {
  signal: AbortSignal;
  /** Cap on bytes received in one window (the whole session unless `newWindow` is called). */
  maxBytes: number;
  /** Destroyed together when `signal` fires. */
  sockets: Set<Socket>;
}

/**
 * A `pg` client on a socket we own: the probe destroys the socket when its AbortSignal fires, and
 * a byte cap destroys it too, so the driver can neither outlive the probe nor buffer without bound.
 */
async function openDriver(
  target: ProbeTarget,
  io: DriverIo,
  user: string,
  database: string,
  timeoutMs: number,
): Promise<DriverSession> {
  io.signal.throwIfAborted();
  let received = 0;
  let windowStart = 0;
  let overflow: LimitError | undefined;
  const socket = new Socket();
  io.sockets.add(socket);
  socket.once('close', () => io.sockets.delete(socket));
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received - windowStart > io.maxBytes && overflow === undefined) {
      overflow = new LimitError(`answers larger than ${io.maxBytes} bytes in one response`);
      socket.destroy(overflow);
    }
  });
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    user,
    database,
    ...(target.password === undefined ? {} : { password: target.password }),
    ssl: false,
    application_name: 'leakwatch',
    connectionTimeoutMillis: Math.max(1, timeoutMs),
    query_timeout: Math.max(1, timeoutMs),
    stream: () => socket,
  });
  // An idle client whose socket dies emits 'error'; without a listener that would crash the process.
  client.on('error', () => undefined);
  const close = async (): Promise<void> => {
    await Promise.race([client.end().catch(() => undefined), new Promise((r) => setTimeout(r, 300))]);
    socket.destroy();
  };
  try {
    await client.connect();
  } catch (error) {
    await close();
    throw overflow ?? error;
  }
  return {
    client,
    newWindow: () => {
      windowStart = received;
    },
    received: () => received,
    alive: () => !socket.destroyed,
    close,
  };
}

// Typed as the driver may hand them over from a hostile peer, not as a real server would send them.
interface TableRow {
  schema: unknown;
  name: unknown;
  estimate: unknown;
  bytes: unknown;
  readable: unknown;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A table the login may SELECT from, as named in `collections`. */
interface SampleTable {
  schema: string;
  name: string;
  collection: string;
  /** Average bytes per row from the catalog (indexes and TOAST included, so rather high). */
  rowBytes?: number;
}

interface DatabaseSizes {
  database: string;
  collections: CollectionInfo[];
  /** Tables to read records from when the scan classifies, biggest first. */
  sampleable: SampleTable[];
  tables: number;
  records: number;
  bytes: number;
  approximate: boolean;
}

// User tables: ordinary tables (partitions count as their own tables, partitioned parents hold no
// rows of their own), not catalogs, TOAST or other sessions' temp tables.
const tablesSql = `
SELECT n.nspname AS schema, c.relname AS name, c.reltuples::float8 AS estimate,
       pg_total_relation_size(c.oid)::float8 AS bytes, has_table_privilege(c.oid, 'SELECT') AS readable
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND c.relpersistence <> 't'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
 ORDER BY pg_total_relation_size(c.oid) DESC, n.nspname, c.relname
 LIMIT ${tableCap + 1}`;

const totalsSql = `
SELECT count(*)::float8 AS tables, coalesce(sum(greatest(c.reltuples, 0)), 0)::float8 AS records,
       coalesce(sum(pg_total_relation_size(c.oid)), 0)::float8 AS bytes
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND c.relpersistence <> 't'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'`;

/**
 * Sizes one database inside the caller's read-only transaction. Collections are named
 * `database.schema.table`, so tables of several databases never collide.
 */
async function sizeDatabase(
  client: pg.Client,
  database: string,
  counts: { left: number },
  inTime: () => boolean,
): Promise<DatabaseSizes> {
  const rows = (await client.query<TableRow>(tablesSql)).rows;
  const listed = rows.slice(0, tableCap);
  let approximate = rows.length > tableCap;
  const collections: CollectionInfo[] = [];
  const sampleable: SampleTable[] = [];
  let records = 0;
  let bytes = 0;
  for (const row of listed) {
    const schema = String(row.schema);
    const name = String(row.name);
    // reltuples is -1 (PostgreSQL 14+) or 0 for a table never vacuumed or analyzed.
    const estimate = finite(row.estimate) ?? -1;
    let exact: number | undefined;
    if (row.readable === true && estimate < exactCountBelow && counts.left > 0 && inTime()) {
      counts.left--;
      // A savepoint keeps the transaction usable if this one count fails (lock or statement timeout).
      await client.query('SAVEPOINT leakwatch_count');
      try {
        const table = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`;
        const result = await client.query<{ n: unknown }>(
          `SELECT count(*)::float8 AS n FROM (SELECT 1 FROM ${table} LIMIT ${exactCountBelow + 1}) AS t`,
        );
        exact = finite(result.rows[0]?.n);
        await client.query('RELEASE SAVEPOINT leakwatch_count');
      } catch {
        await client.query('ROLLBACK TO SAVEPOINT leakwatch_count');
      }
    }
    let count: number | undefined;
    if (exact !== undefined && exact <= exactCountBelow) count = exact;
    else {
      approximate = true;
      if (exact !== undefined) count = Math.max(exact, estimate);
      else if (estimate >= 0) count = Math.round(estimate);
    }
    const collection: CollectionInfo = { name: sanitizeText(`${database}.${schema}.${name}`) };
    if (count !== undefined) {
      collection.records = count;
      records += count;
    }
    const size = finite(row.bytes);
    if (size !== undefined) {
      collection.bytes = size;
      bytes += size;
    }
    collections.push(collection);
    if (row.readable === true) {
      const table: SampleTable = { schema, name, collection: collection.name };
      if (size !== undefined && count !== undefined && count > 0) table.rowBytes = size / count;
      sampleable.push(table);
    }
  }
  let tables = listed.length;
  if (rows.length > tableCap) {
    const totals = (await client.query<{ tables: unknown; records: unknown; bytes: unknown }>(totalsSql))
      .rows[0];
    if (totals !== undefined) {
      const listedEstimates = listed.reduce((sum, r) => sum + Math.max(finite(r.estimate) ?? 0, 0), 0);
      tables = finite(totals.tables) ?? tables;
      records += Math.max(0, (finite(totals.records) ?? 0) - listedEstimates);
      bytes = Math.max(bytes, finite(totals.bytes) ?? 0);
    }
  }
  return { database, collections, sampleable, tables, records, bytes, approximate };
}

async function readOnly<T>(client: pg.Client, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN READ ONLY');
  try {
    // Server-side caps too: a count must not run or wait for a lock past the probe's deadline.
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.min(1000, Math.floor(timeoutMs)))}`);
    return await work();
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

interface Opened {
  how: string;
  version: string | undefined;
}

function openResult(
  opened: Opened,
  results: DatabaseSizes[],
  skipped: number,
  cutShort?: string,
): ProbeResult {
  const size: StoreSize = {
    collections: results.reduce((sum, r) => sum + r.tables, 0),
    records: results.reduce((sum, r) => sum + r.records, 0),
    bytes: results.reduce((sum, r) => sum + r.bytes, 0),
  };
  if (skipped > 0 || cutShort !== undefined || results.some((r) => r.approximate)) size.approximate = true;
  const notes = [
    ...(skipped > 0 ? [`${skipped} more not surveyed`] : []),
    ...(cutShort === undefined ? [] : [`survey cut short: ${cutShort}`]),
  ];
  const product = 'postgresql';
  const result: ProbeResult = {
    status: 'open',
    detail: [
      `${opened.how}; ${size.collections} tables, ${size.records} records in ${results.length} databases`,
      ...notes,
    ].join('; '),
    // `15.20 (Debian 15.20-0+deb12u1)`: the number is the version, the rest is packaging.
    server:
      opened.version === undefined
        ? { product }
        : { product, version: sanitizeText(opened.version.split(' ')[0] ?? opened.version, 40) },
    size,
    collections: results.flatMap((r) => r.collections),
  };
  if (size.records === 0 && cutShort === undefined) result.indicators = ['empty'];
  return result;
}

// Rows per FETCH of a long read, fewer for wide rows, so one batch stays near sampleBatchBytes.
const sampleBatchRows = 5000;
const sampleBatchBytes = 16 * 1024 * 1024;
// One response (a LIMIT result or one FETCH batch) may hold this much; a single bigger row (a huge
// bytea or jsonb value) ends that table's read, not the process's memory.
const sampleResponseBytes = 64 * 1024 * 1024;
// Per store: a sample reads a bounded amount; `--full` reads everything up to a ceiling that only
// a very large store reaches, within sampling's own deadline.
const sampleStoreBytes = 512 * 1024 * 1024;
const fullStoreBytes = 64 * 1024 * 1024 * 1024;
// Server-side cap of each sampling statement (a LIMIT query or one FETCH), so no read outlives a
// client that gave up; the client-side timeout is a little longer, so the server cancels first.
const sampleStatementMs = 30_000;
// A session spent on one table (byte cap, peer hung up) is replaced at most this often per database.
const sampleReopens = 3;

function toRecord(row: Record<string, unknown>): Record<string, unknown> {
  return plainRecord(Object.entries(row));
}

/**
 * Reads up to `limit` rows of one table in its own READ ONLY transaction (short, so the target's
 * vacuum horizon is not held for a whole `--full` read) and hands them to the sink. Small samples
 * are one `SELECT … LIMIT n`; longer reads go through a cursor, batch by batch, so memory holds one
 * batch at a time. Returns the rows read.
 */
async function sampleTable(
  session: DriverSession,
  table: SampleTable,
  limit: number,
  sampler: RecordSink,
  overBudget: () => boolean,
): Promise<number> {
  const { client } = session;
  const from = `${pg.escapeIdentifier(table.schema)}.${pg.escapeIdentifier(table.name)}`;
  const batch =
    table.rowBytes === undefined
      ? sampleBatchRows
      : Math.max(100, Math.min(sampleBatchRows, Math.floor(sampleBatchBytes / Math.max(1, table.rowBytes))));
  let rows = 0;
  const take = (result: pg.QueryResult<Record<string, unknown>>): void => {
    for (const row of result.rows) sampler.add(table.collection, toRecord(row));
    rows += result.rows.length;
  };
  return readOnly(client, sampleStatementMs, async () => {
    if (limit <= batch) {
      session.newWindow();
      take(await client.query<Record<string, unknown>>(`SELECT * FROM ${from} LIMIT ${limit}`));
      return rows;
    }
    const bounded = Number.isFinite(limit) ? ` LIMIT ${limit}` : '';
    await client.query(`DECLARE leakwatch_rows NO SCROLL CURSOR FOR SELECT * FROM ${from}${bounded}`);
    for (;;) {
      sampler.signal.throwIfAborted();
      session.newWindow();
      const result = await client.query<Record<string, unknown>>(
        `FETCH FORWARD ${batch} FROM leakwatch_rows`,
      );
      take(result);
      if (result.rows.length < batch || overBudget()) return rows;
    }
    // The transaction's ROLLBACK closes the cursor.
  });
}

interface SampleTally {
  tables: number;
  rows: number;
  failed: number;
  bytes: number;
  stopped?: string;
}

/**
 * Reads records of every surveyed table for classification, on sessions of their own that hang on
 * sampling's deadline rather than the probe's. Returns a one-line summary of counts (no values).
 */
async function sampleStore(
  target: ProbeTarget,
  ctx: ProbeContext,
  user: string,
  sampler: RecordSink,
  databases: readonly DatabaseSizes[],
): Promise<string> {
  // Finite limits print as digits in SQL (1e21 would print as an exponent).
  const limit =
    sampler.limit === Infinity ? Infinity : Math.min(Math.floor(sampler.limit), Number.MAX_SAFE_INTEGER);
  const tally: SampleTally = { tables: 0, rows: 0, failed: 0, bytes: 0 };
  if (!(limit > 0)) return 'no records sampled (limit 0)';
  const storeCap = sampler.limit === Infinity ? fullStoreBytes : sampleStoreBytes;
  const sockets = new Set<Socket>();
  const abort = (): void => {
    for (const socket of sockets) socket.destroy(new Error('aborted', { cause: sampler.signal.reason }));
  };
  sampler.signal.addEventListener('abort', abort, { once: true });
  const io: DriverIo = {
    signal: sampler.signal,
    maxBytes: Math.max(ctx.maxBytes, sampleResponseBytes),
    sockets,
  };
  try {
    databases: for (const db of databases) {
      let next = 0;
      for (let reopens = 0; next < db.sampleable.length; reopens++) {
        if (reopens > sampleReopens) {
          tally.failed += db.sampleable.length - next;
          break;
        }
        let session: DriverSession;
        try {
          session = await openDriver(target, io, user, db.database, sampleStatementMs + 5000);
        } catch (error) {
          if (sampler.signal.aborted) throw error;
          tally.failed += db.sampleable.length - next;
          break;
        }
        try {
          while (next < db.sampleable.length && session.alive()) {
            if (tally.bytes >= storeCap) {
              tally.stopped = `${storeCap / 1024 ** 2} MiB read`;
              break databases;
            }
            const table = db.sampleable[next++] as SampleTable;
            const before = session.received();
            const overBudget = (): boolean => tally.bytes + session.received() - before >= storeCap;
            try {
              tally.rows += await sampleTable(session, table, limit, sampler, overBudget);
              tally.tables++;
            } catch (error) {
              if (sampler.signal.aborted) throw error;
              // No SELECT privilege after all, a lock or statement timeout, a row over the byte cap.
              tally.failed++;
            } finally {
              tally.bytes += session.received() - before;
            }
          }
        } finally {
          await session.close();
        }
      }
    }
  } catch (error) {
    if (!sampler.signal.aborted) throw error;
    tally.stopped = 'sampling deadline reached';
  } finally {
    if (tally.bytes >= storeCap) tally.stopped ??= `${storeCap / 1024 ** 2} MiB read`;
    sampler.signal.removeEventListener('abort', abort);
    abort();
  }
  return [
    `sampled ${tally.rows} rows of ${tally.tables} tables`,
    ...(tally.failed > 0 ? [`${tally.failed} tables not readable`] : []),
    ...(tally.stopped === undefined ? [] : [`sampling stopped early (${tally.stopped})`]),
  ].join(', ');
}

function isAuthFailure(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code === '28P01' || code === '28000');
}

/**
 * PostgreSQL. Open when a login as `postgres` (or the user the target names) succeeds without a
 * password, or with the password the target names, and the catalogs can be read. Everything runs
 * in READ ONLY transactions with statement and lock timeouts; counts are bounded by LIMIT.
 */
export const postgresConnector = {
  defaultPorts: [5432],
  async probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
    const started = Date.now();
    const remainingMs = (): number => ctx.timeoutMs - (Date.now() - started);
    // Stop widening the survey well before the deadline, so an open server is reported as open.
    const inTime = (): boolean => Date.now() - started < ctx.timeoutMs * 0.6;
    const user = target.username ?? 'postgres';
    const named = target.path !== undefined && target.path !== '' ? target.path : undefined;
    let sessions: DriverSession[] = [];
    let opened: Opened | undefined;
    const results: DatabaseSizes[] = [];
    let skipped = 0;
    // One abort listener for every driver socket of this probe, removed at the end.
    const sockets = new Set<Socket>();
    const abort = (): void => {
      for (const socket of sockets) socket.destroy(new Error('aborted', { cause: ctx.signal.reason }));
    };
    ctx.signal.addEventListener('abort', abort, { once: true });
    const surveyIo: DriverIo = { signal: ctx.signal, maxBytes: ctx.maxBytes, sockets };
    // The store is open: read records for classification when the scan classifies.
    const withSample = async (result: ProbeResult): Promise<ProbeResult> => {
      if (ctx.sampler === undefined) return result;
      // Survey sessions are done; free their server slots before opening sampling ones.
      await Promise.all(sessions.map((s) => s.close()));
      sessions = [];
      let note: string;
      try {
        note = await sampleStore(target, ctx, user, ctx.sampler, results);
      } catch (error) {
        // Messages of a failed read may quote values; only the class of failure is reported.
        note = `sampling failed (${error instanceof Error ? sanitizeText(error.name, 40) : 'error'})`;
      }
      return { ...result, detail: `${result.detail}; ${note}` };
    };
    try {
      const check = await precheck(target, ctx, user, named ?? 'postgres');
      const product = { product: 'postgresql' };
      if (check.kind === 'refused') {
        const message = sanitizeText(check.message);
        // invalid_authorization_specification: no pg_hba.conf entry, unknown role, hostssl only.
        if (check.code.startsWith('28'))
          return { status: 'auth-required', detail: `server refuses the login: ${message}`, server: product };
        return { status: 'error', detail: `server refuses the login: ${message}`, server: product };
      }
      if (check.kind === 'auth' && target.password === undefined)
        return { status: 'auth-required', detail: `server asks for ${check.method}`, server: product };
      if (check.kind === 'login' && check.missingDatabase === true && named !== undefined) {
        return {
          status: 'error',
          detail: `logged in as ${sanitizeText(user, 64)} without a password, but the named database does not exist`,
          server: product,
        };
      }
      // template1 exists on every cluster when the conventional `postgres` database was dropped.
      const first =
        check.kind === 'login' && check.missingDatabase === true ? 'template1' : (named ?? 'postgres');
      let main: DriverSession;
      try {
        main = await openDriver(target, surveyIo, user, first, remainingMs());
      } catch (error) {
        if (isAuthFailure(error)) {
          const how = check.kind === 'auth' ? ` (server asks for ${check.method})` : '';
          return {
            status: 'auth-required',
            detail: `server rejected the given credentials${how}`,
            server: product,
          };
        }
        throw error;
      }
      sessions.push(main);
      opened = {
        how:
          check.kind === 'login'
            ? `login as ${sanitizeText(user, 64)} accepted without a password`
            : `the given credentials for ${sanitizeText(user, 64)} read data`,
        version: check.kind === 'login' ? check.version : undefined,
      };
      const counts = { left: exactCountCap };
      const survey = await readOnly(main.client, remainingMs(), async () => {
        const version = (
          await main.client.query<{ v: unknown }>("SELECT current_setting('server_version') AS v")
        ).rows[0]?.v;
        const databases = (
          await main.client.query<{ name: unknown }>(
            `SELECT datname AS name FROM pg_database
              WHERE datallowconn AND NOT datistemplate AND has_database_privilege(oid, 'CONNECT')
              ORDER BY datname LIMIT ${databaseCap + 1}`,
          )
        ).rows.map((r) => String(r.name));
        const own =
          first === 'template1' ? undefined : await sizeDatabase(main.client, first, counts, inTime);
        return { version: typeof version === 'string' ? version : undefined, databases, own };
      });
      opened.version = survey.version ?? opened.version;
      if (survey.own !== undefined) results.push(survey.own);
      const others = survey.databases.filter((d) => d !== first);
      skipped = Math.max(0, survey.databases.length - databaseCap);
      for (const database of others.slice(0, databaseCap - results.length)) {
        if (!inTime()) {
          skipped++;
          continue;
        }
        let session: DriverSession;
        try {
          session = await openDriver(target, surveyIo, user, database, remainingMs());
        } catch (error) {
          // pg_hba.conf may allow some databases only; the others are simply not readable to us.
          if (ctx.signal.aborted) throw error;
          skipped++;
          continue;
        }
        sessions.push(session);
        try {
          results.push(
            await readOnly(session.client, remainingMs(), () =>
              sizeDatabase(session.client, database, counts, inTime),
            ),
          );
        } catch (error) {
          if (ctx.signal.aborted) throw error;
          skipped++;
        }
        await session.close();
        sessions = sessions.filter((s) => s !== session);
      }
      return await withSample(openResult(opened, results, skipped));
    } catch (error) {
      const failure = probeFailure(error, ctx);
      // The login already proved the store open; a survey cut short only makes the sizes partial.
      if (opened !== undefined) return await withSample(openResult(opened, results, skipped, failure.detail));
      return failure;
    } finally {
      ctx.signal.removeEventListener('abort', abort);
      await Promise.all(sessions.map((s) => s.close()));
    }
  },
} satisfies Connector;
