import { sql, type Kysely } from 'kysely';
import { Migrator, type MigrationResultSet } from 'kysely/migration';
import { migrations } from './migrations/index.ts';

/** The schema in the database is newer than this code: refuse rather than corrupt it. */
export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

const TABLE = 'parley_migrations';
const LOCK_TABLE = 'parley_migrations_lock';

export const latestMigration = Object.keys(migrations).sort().at(-1)!;

function migrator(db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: TABLE,
    migrationLockTableName: LOCK_TABLE,
  });
}

async function appliedNames(db: Kysely<any>): Promise<string[]> {
  const exists = await sql<{ found: boolean }>`SELECT to_regclass(${TABLE}) IS NOT NULL AS found`.execute(db);
  if (!exists.rows[0]?.found) return [];
  const rows = await sql<{ name: string }>`SELECT name FROM ${sql.table(TABLE)} ORDER BY name`.execute(db);
  return rows.rows.map((r) => r.name);
}

export interface SchemaStatus {
  applied: string[];
  pending: string[];
  unknown: string[];
  current: boolean;
}

export async function schemaStatus(db: Kysely<any>): Promise<SchemaStatus> {
  const applied = await appliedNames(db);
  const known = Object.keys(migrations);
  const pending = known.filter((name) => !applied.includes(name));
  const unknown = applied.filter((name) => !(name in migrations));
  return { applied, pending, unknown, current: pending.length === 0 && unknown.length === 0 };
}

/**
 * Applies every pending migration in order, each in its own transaction, under a lock so that
 * several instances starting together migrate once. Returns the names applied now.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const status = await schemaStatus(db);
  if (status.unknown.length > 0) {
    throw new SchemaTooNewError(
      `the database schema is newer than this version of Parley (it has ${status.unknown.join(', ')}; this version knows up to ${latestMigration}): upgrade Parley, or use another database`,
    );
  }
  if (status.pending.length === 0) return [];
  const { error, results }: MigrationResultSet = await migrator(db).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${(error as Error).message}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
