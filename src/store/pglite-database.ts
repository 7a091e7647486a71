import { PGlite, types, type Transaction } from '@electric-sql/pglite';
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

/** PGlite keeps its data in `dataDir`; only one process may open it (see lock-file.ts). */
export async function openPgliteDatabase(dataDir: string): Promise<SqlDatabase> {
  const db = await PGlite.create(dataDir, { parsers });
  return {
    kind: 'pglite',
    ...wrap(db),
    transaction: (work) => db.transaction((tx) => work(wrap(tx))),
    close: () => db.close(),
  };
}
