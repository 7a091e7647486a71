/**
 * The little of SQL the store needs, over either PGlite (embedded) or a PostgreSQL pool, so one set
 * of queries and one set of migrations serves both (DESIGN.md, store/).
 * Both sides parse int8 as a JS number and timestamptz as a Date; jsonb parameters are passed as
 * JSON text with an explicit `::jsonb` cast, which both accept.
 */
export interface SqlClient {
  query<Row extends object>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Several statements, no parameters (migrations). */
  exec(text: string): Promise<void>;
}

export interface SqlDatabase extends SqlClient {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `work` in one transaction; rolls back if it throws. */
  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
