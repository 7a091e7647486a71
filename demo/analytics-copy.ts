/**
 * The "more flexible database that is easier to query" of the story: PGlite (real PostgreSQL in
 * WebAssembly) holding the generated account documents as a table, served over the PostgreSQL
 * wire protocol by pglite-socket, behind the guard that plays its access protection.
 */
import { createReadStream } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { startPostgresGuard, type PostgresGuard } from './guard.js';

export interface AnalyticsCopyOptions {
  /** accounts.ndjson of corpus/generate-dataset.ts. */
  accountsFile: string;
  /** PGlite's data directory (on disk: millions of rows do not fit WebAssembly's memory). */
  dataDir: string;
  user: string;
  password: string;
  onProgress?: (rows: number) => void;
}

export interface AnalyticsCopy {
  guard: PostgresGuard;
  rows: number;
  loadMs: number;
  /** `postgres://…` through the guard, with credentials when given. */
  target(credentials?: boolean): string;
  stop(): Promise<void>;
}

// Top-level keys of an account document become columns; nested objects and arrays stay JSONB, as an
// analytics copy made with `jsonb_populate_record` or an ETL tool would keep them.
const columns = [
  ['user_id', 'integer'],
  ['email', 'text'],
  ['username', 'text'],
  ['plan', 'text'],
  ['locale', 'text'],
  ['push_enabled', 'boolean'],
  ['shared_with', 'jsonb'],
  ['cams', 'jsonb'],
  ['home', 'jsonb'],
  ['last_login', 'integer'],
  ['last_logout', 'bigint'],
  ['last_on', 'text'],
  ['api', 'jsonb'],
  ['alexa', 'jsonb'],
  ['body_metrics', 'jsonb'],
] as const;

// One COPY per chunk: big enough that per-statement overhead vanishes, small enough that the blob
// and PGlite's copy of it stay far below WebAssembly's memory limit.
const chunkBytes = 32 * 1024 * 1024;

/** COPY text format: backslash, tab, newline and carriage return escaped; NULL as \N. */
function copyField(value: unknown): string {
  if (value === undefined || value === null) return '\\N';
  const text =
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : JSON.stringify(value);
  return /[\\\t\n\r]/.test(text)
    ? text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : text;
}

function copyRow(line: string): string {
  const doc = JSON.parse(line) as Record<string, unknown>;
  let row = '';
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i];
    if (column === undefined) continue;
    row += (i === 0 ? '' : '\t') + copyField(doc[column[0]]);
  }
  return `${row}\n`;
}

/** Streams the NDJSON file into the table with COPY FROM '/dev/blob', chunk by chunk. */
async function loadAccounts(db: PGlite, file: string, onProgress?: (rows: number) => void): Promise<number> {
  let rows = 0;
  let pending: string[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const blob = new Blob(pending);
    pending = [];
    pendingBytes = 0;
    await db.query("COPY accounts FROM '/dev/blob'", [], { blob });
    onProgress?.(rows);
  };
  let tail = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 4 * 1024 * 1024 })) {
    const text = tail + (chunk as string);
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      if (end > start) {
        const row = copyRow(text.slice(start, end));
        pending.push(row);
        pendingBytes += row.length;
        rows++;
      }
      start = end + 1;
    }
    tail = text.slice(start);
    if (pendingBytes >= chunkBytes) await flush();
  }
  if (tail.trim() !== '') {
    pending.push(copyRow(tail));
    rows++;
  }
  await flush();
  return rows;
}

/** Creates and loads the copy, serves it on a free port, and puts the (protected) guard in front. */
export async function startAnalyticsCopy(options: AnalyticsCopyOptions): Promise<AnalyticsCopy> {
  const started = performance.now();
  // Durability buys nothing for a throw-away copy and costs an fsync per COPY.
  const db = await PGlite.create({ dataDir: options.dataDir, relaxedDurability: true });
  let server: PGLiteSocketServer | undefined;
  let guard: PostgresGuard | undefined;
  try {
    await db.exec(
      `create unlogged table accounts (${columns.map(([name, type]) => `${name} ${type}`).join(', ')})`,
    );
    const rows = await loadAccounts(db, options.accountsFile, options.onProgress);
    // Real statistics, so the scanner's size estimate (reltuples) is the row count.
    await db.exec('analyze accounts');
    const loadMs = performance.now() - started;
    const maxUpstream = 8;
    // Several sessions at once, multiplexed per query by pglite-socket; the guard queues beyond.
    server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: maxUpstream + 4 });
    await server.start();
    const upstreamPort = Number(server.getServerConn().split(':').at(-1));
    guard = await startPostgresGuard({
      upstreamPort,
      user: options.user,
      password: options.password,
      maxUpstream,
    });
    const port = guard.port;
    const running = { server, guard };
    return {
      guard,
      rows,
      loadMs,
      target: (credentials = false) =>
        credentials
          ? `postgres://${encodeURIComponent(options.user)}:${encodeURIComponent(options.password)}@127.0.0.1:${port}`
          : `postgres://127.0.0.1:${port}`,
      async stop() {
        await running.guard.stop();
        await running.server.stop();
        await db.close();
      },
    };
  } catch (error) {
    await guard?.stop().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw error;
  }
}
