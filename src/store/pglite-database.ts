import { PGlite, types, type Transaction } from '@electric-sql/pglite';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlClient, SqlDatabase } from './sql-client.js';

// int8 (counts, ids) as a JS number, like the PostgreSQL side; counts stay far below 2^53.
const parsers = { [types.INT8]: (value: string) => Number(value) };

function wrap(target: PGlite | Transaction): SqlClient {
  return {
    async query<Row extends object>(text: string, params: readonly unknown[] = []) {
      const result = await target.query<Row>(text, [...params]);
      return result.rows;
    },
    async exec(text: string) {
      await target.exec(text);
    },
  };
}

/** The installed PGlite's version (its package.json is not exported, so it is found from the entry). */
function pgliteVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  for (let depth = 0; depth < 5; depth++) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === '@electric-sql/pglite') return manifest.version ?? 'unknown';
    } catch {
      // Not here; look one level up.
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/**
 * A fresh PGlite directory costs an initdb in WebAssembly (4–45 s on a busy 2-core machine); loading
 * a dump of an empty one takes about a second. The dump is made once per machine and PGlite version.
 */
function templatePath(): string {
  const base =
    process.env['LEAKWATCH_CACHE_DIR'] ??
    join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'leakwatch');
  return join(base, `pglite-${pgliteVersion()}-empty.tgz`);
}

async function createFresh(dataDir: string): Promise<PGlite> {
  const template = templatePath();
  if (existsSync(template)) {
    try {
      return await PGlite.create(dataDir, { parsers, loadDataDir: new Blob([readFileSync(template)]) });
    } catch {
      // A damaged template: fall back to initdb (and replace it below).
    }
  }
  const db = await PGlite.create(dataDir, { parsers });
  try {
    const dump = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer());
    mkdirSync(join(template, '..'), { recursive: true });
    const partial = `${template}.${process.pid}.tmp`;
    writeFileSync(partial, dump);
    // Atomic: a concurrent reader sees the old template or the new one, never half of one.
    renameSync(partial, template);
  } catch {
    // No cache (read-only home): every new store pays the initdb; nothing else changes.
  }
  return db;
}

/** PGlite keeps its data in `dataDir`; only one process may open it (see lock-file.ts). */
export async function openPgliteDatabase(dataDir: string): Promise<SqlDatabase> {
  const db = existsSync(join(dataDir, 'PG_VERSION'))
    ? await PGlite.create(dataDir, { parsers })
    : await createFresh(dataDir);
  return {
    kind: 'pglite',
    ...wrap(db),
    transaction: (work) => db.transaction((tx) => work(wrap(tx))),
    close: () => db.close(),
  };
}
