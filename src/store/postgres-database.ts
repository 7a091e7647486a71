import pg from 'pg';
import type { SqlClient, SqlDatabase } from './sql-client.js';

// int8 (counts, ids) as a JS number, like the PGlite side; counts stay far below 2^53.
const typeParsers = new pg.TypeOverrides();
typeParsers.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

function wrap(target: pg.Pool | pg.PoolClient): SqlClient {
  return {
    async query<Row extends object>(text: string, params: readonly unknown[] = []) {
      const result = await target.query<Row>(text, [...params]);
      return result.rows;
    },
    async exec(text: string) {
      await target.query(text);
    },
  };
}

/** A pool on a PostgreSQL server shared by watch, workers and other commands on many machines. */
export async function openPostgresDatabase(url: string): Promise<SqlDatabase> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 8,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    types: typeParsers,
    application_name: 'leakwatch',
  });
  // An idle client that dies (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  // Fail early with the server's own message when the URL is wrong.
  const probe = await pool.connect();
  probe.release();
  return {
    kind: 'postgres',
    ...wrap(pool),
    async transaction(work) {
      const connection = await pool.connect();
      // A connection whose ROLLBACK failed may still be inside the transaction: destroy it rather
      // than hand it to the next query.
      let broken: Error | undefined;
      try {
        await connection.query('BEGIN');
        const result = await work(wrap(connection));
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        await connection.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw error;
      } finally {
        connection.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
