import { migrations, type Migration } from './migrations.js';
import type { SqlDatabase } from './sql-client.js';

// Any fixed number: serialises migrations of processes starting at once against one PostgreSQL.
const migrationLockKey = 7_326_110_201;

/** Applies the migrations not applied yet, each in its own transaction; returns their ids. */
export async function migrate(db: SqlDatabase, all: readonly Migration[] = migrations): Promise<number[]> {
  // Under the lock too: two `create table if not exists` at once both see no table, and the second
  // fails on PostgreSQL's catalog (duplicate key in pg_type_typname_nsp_index).
  await db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [migrationLockKey]);
    await tx.exec(`create table if not exists leakwatch_migration (
      id integer primary key,
      name text not null,
      applied_at timestamptz not null default now()
    )`);
  });
  const applied: number[] = [];
  for (const migration of all) {
    const done = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [migrationLockKey]);
      const rows = await tx.query('select 1 from leakwatch_migration where id = $1', [migration.id]);
      if (rows.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query('insert into leakwatch_migration (id, name) values ($1, $2)', [
        migration.id,
        migration.name,
      ]);
      return true;
    });
    if (done) applied.push(migration.id);
  }
  return applied;
}
