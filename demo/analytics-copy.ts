/**
 * The "more flexible database that is easier to query" of the story: PGlite (real PostgreSQL in
 * WebAssembly) holding the generated account documents as a table, served over the PostgreSQL
 * wire protocol by pglite-socket, behind the guard that plays its access protection.
 *
 * All of it (loading, PGlite, the socket server and the guard) runs in a worker thread
 * (demo/analytics-copy-worker.ts): serving every row of a big copy is CPU work for WebAssembly
 * Postgres and the proxy, and on the main thread it would compete with the watcher and the
 * classifier reading those rows, leaving the machine's other cores idle.
 */
import { Worker } from 'node:worker_threads';
import type { CopyWorkerInput, FromCopyWorker, ToCopyWorker } from './analytics-copy-worker.js';

export interface AnalyticsCopyOptions {
  /** accounts.ndjson of corpus/generate-dataset.ts. */
  accountsFile: string;
  /** PGlite's data directory (on disk: millions of rows do not fit WebAssembly's memory). */
  dataDir: string;
  user: string;
  password: string;
  onProgress?: (rows: number) => void;
}

/** The guard in front of the copy, as the main thread sees it. */
export interface CopyGuard {
  port: number;
  /** Resolves once the guard applies the change to the connections that follow. */
  setProtected(value: boolean): Promise<void>;
}

export interface AnalyticsCopy {
  guard: CopyGuard;
  rows: number;
  loadMs: number;
  /** `postgres://…` through the guard, with credentials when given. */
  target(credentials?: boolean): string;
  stop(): Promise<void>;
}

// The worker answers a toggle within a turn of its event loop; longer means it is stuck.
const ackTimeoutMs = 10_000;
// Closing PGlite and the servers takes well under a second; beyond this the thread is terminated.
const stopTimeoutMs = 10_000;

/**
 * The worker's module. Under tsx the demo's modules are TypeScript, and in Node 20 a worker does not
 * get tsx's loader from the parent's `--import tsx`, so a tiny bootstrap registers it first.
 */
function spawnWorker(input: CopyWorkerInput): Worker {
  const typescript = import.meta.url.endsWith('.ts');
  const entry = new URL(`./analytics-copy-worker.${typescript ? 'ts' : 'js'}`, import.meta.url);
  if (!typescript) return new Worker(entry, { workerData: input });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: input });
}

/** Creates and loads the copy in its worker, serves it on a free port, and puts the (protected) guard in front. */
export async function startAnalyticsCopy(options: AnalyticsCopyOptions): Promise<AnalyticsCopy> {
  const worker = spawnWorker({
    accountsFile: options.accountsFile,
    dataDir: options.dataDir,
    user: options.user,
    password: options.password,
  });
  const acks = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  let nextAck = 0;
  // Set once the worker is gone; every later request fails with it instead of waiting forever.
  let gone: Error | undefined;
  let lastFailure: string | undefined;
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));

  const ready = new Promise<{ rows: number; loadMs: number; port: number }>((resolve, reject) => {
    const fail = (error: Error): void => {
      gone ??= error;
      for (const ack of acks.values()) ack.reject(gone);
      acks.clear();
      reject(gone);
    };
    worker.on('message', (message: FromCopyWorker) => {
      switch (message.type) {
        case 'progress':
          options.onProgress?.(message.rows);
          break;
        case 'ready':
          resolve(message);
          break;
        case 'ack':
          acks.get(message.id)?.resolve();
          acks.delete(message.id);
          break;
        case 'failed':
          lastFailure = message.message;
          break;
      }
    });
    worker.on('error', (error) => {
      fail(new Error(`analytics copy: its worker thread crashed: ${error.message}`));
    });
    worker.once('exit', (code) => {
      fail(
        new Error(
          lastFailure === undefined
            ? `analytics copy: its worker thread exited (code ${code})`
            : `analytics copy: ${lastFailure}`,
        ),
      );
    });
  });

  let started: { rows: number; loadMs: number; port: number };
  try {
    started = await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  const { port } = started;
  const post = (message: ToCopyWorker): void => {
    worker.postMessage(message);
  };

  return {
    guard: {
      port,
      async setProtected(value) {
        if (gone !== undefined) throw gone;
        const id = nextAck++;
        let timer: NodeJS.Timeout | undefined;
        try {
          await new Promise<void>((resolve, reject) => {
            acks.set(id, { resolve, reject });
            timer = setTimeout(() => {
              acks.delete(id);
              reject(
                new Error(
                  `analytics copy: the guard did not confirm the change within ${ackTimeoutMs / 1000} s`,
                ),
              );
            }, ackTimeoutMs);
            post({ type: 'protect', id, value });
          });
        } finally {
          clearTimeout(timer);
        }
      },
    },
    rows: started.rows,
    loadMs: started.loadMs,
    target: (credentials = false) =>
      credentials
        ? `postgres://${encodeURIComponent(options.user)}:${encodeURIComponent(options.password)}@127.0.0.1:${port}`
        : `postgres://127.0.0.1:${port}`,
    async stop() {
      if (gone !== undefined) return;
      post({ type: 'stop' });
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => {
            resolve('timeout');
          }, stopTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (code === 'timeout') {
        await worker.terminate();
        throw new Error(
          `analytics copy: did not stop within ${stopTimeoutMs / 1000} s, its thread was terminated`,
        );
      }
      if (lastFailure !== undefined) throw new Error(`analytics copy: ${lastFailure}`);
    },
  };
}
