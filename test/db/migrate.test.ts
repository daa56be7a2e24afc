import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { latestMigration, migrateToLatest, schemaStatus, SchemaTooNewError } from '../../src/db/migrate.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { freshDatabase } from '../helpers/db.ts';

test('migrations apply in order on an empty database, once', async () => {
  const database = await freshDatabase({ migrated: false });
  try {
    assert.deepEqual((await schemaStatus(database.db)).pending, Object.keys(migrations));
    const applied = await migrateToLatest(database.db);
    assert.deepEqual(applied, Object.keys(migrations));
    assert.deepEqual(await migrateToLatest(database.db), [], 'a second run has nothing to do');
    const status = await schemaStatus(database.db);
    assert.equal(status.current, true);
    assert.equal(status.applied.at(-1), latestMigration);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM jobs`.execute(database.db);
    assert.equal(rows[0]!.n, 0);
  } finally {
    await database.close();
  }
});

test('a database with a newer schema than this code is refused, and left untouched', async () => {
  const database = await freshDatabase();
  try {
    await sql`INSERT INTO parley_migrations (name, timestamp) VALUES ('9999_from_the_future', now()::text)`.execute(database.db);
    await assert.rejects(migrateToLatest(database.db), (error: Error) => {
      assert.ok(error instanceof SchemaTooNewError);
      assert.match(error.message, /newer than this version of Parley \(it has 9999_from_the_future; this version knows up to \d{4}_\w+\): upgrade Parley/);
      return true;
    });
    const status = await schemaStatus(database.db);
    assert.deepEqual(status.unknown, ['9999_from_the_future']);
    assert.equal(status.current, false);
  } finally {
    await database.close();
  }
});

test('two instances migrating the same database at once apply each migration once', async () => {
  const database = await freshDatabase({ migrated: false });
  try {
    const results = await Promise.allSettled([migrateToLatest(database.db), migrateToLatest(database.db)]);
    for (const r of results) assert.equal(r.status, 'fulfilled', r.status === 'rejected' ? String(r.reason) : '');
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM parley_migrations`.execute(database.db);
    assert.equal(rows[0]!.n, Object.keys(migrations).length);
  } finally {
    await database.close();
  }
});
