/**
 * The analytics copy's own thread: PGlite, pglite-socket and the guard in front of them, so that
 * serving millions of rows (WebAssembly Postgres plus the proxied bytes) runs on another core than
 * the watcher and the classifier reading them. demo/analytics-copy.ts starts it and talks to it.
 */
import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { startPostgresGuard, type PostgresGuard } from './guard.js';

export interface CopyWorkerInput {
  accountsFile: string;
  dataDir: string;
  user: string;
  password: string;
}

export type ToCopyWorker = { type: 'protect'; id: number; value: boolean } | { type: 'stop' };

export type FromCopyWorker =
  | { type: 'progress'; rows: number }
  | { type: 'ready'; rows: number; loadMs: number; port: number }
  | { type: 'ack'; id: number }
  | { type: 'failed'; message: string };

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

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function main(port: NonNullable<typeof parentPort>, input: CopyWorkerInput): Promise<void> {
  const send = (message: FromCopyWorker): void => {
    port.postMessage(message);
  };
  const started = performance.now();
  // Durability buys nothing for a throw-away copy and costs an fsync per COPY.
  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  let guard: PostgresGuard | undefined;
  const close = async (): Promise<void> => {
    await guard?.stop();
    await server?.stop();
    await db?.close();
  };
  try {
    db = await PGlite.create({ dataDir: input.dataDir, relaxedDurability: true });
    await db.exec(
      `create unlogged table accounts (${columns.map(([name, type]) => `${name} ${type}`).join(', ')})`,
    );
    const rows = await loadAccounts(db, input.accountsFile, (loaded) => {
      send({ type: 'progress', rows: loaded });
    });
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
      user: input.user,
      password: input.password,
      maxUpstream,
    });
    const running = guard;
    port.on('message', (message: ToCopyWorker) => {
      if (message.type === 'protect') {
        running.setProtected(message.value);
        send({ type: 'ack', id: message.id });
        return;
      }
      close().then(
        () => {
          // Nothing else keeps the thread alive: it ends and the main thread sees exit code 0.
          port.close();
        },
        (error: unknown) => {
          send({ type: 'failed', message: `stopping: ${errorMessage(error)}` });
          port.close();
        },
      );
    });
    send({ type: 'ready', rows, loadMs, port: guard.port });
  } catch (error) {
    send({ type: 'failed', message: errorMessage(error) });
    await close().catch(() => undefined);
    port.close();
  }
}

if (parentPort === null) throw new Error('demo/analytics-copy-worker.ts runs only as a worker thread');
await main(parentPort, workerData as CopyWorkerInput);
