import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { onPostgres } from '../helpers/db.ts';
import { startTestParley } from '../helpers/parley.ts';
import { until } from '../helpers/wait.ts';

test('on the embedded database, the job table is vacuumed every minute (it has no autovacuum)', { skip: onPostgres && 'PostgreSQL vacuums by itself' }, async () => {
  const parley = await startTestParley();
  try {
    const { db } = parley.database;
    const job = await db.selectFrom('jobs').select(['id', 'run_at']).where('singleton_key', '=', 'every:maintenance.vacuum').executeTakeFirstOrThrow();
    assert.ok(job.run_at.getTime() - Date.now() > 30_000, 'scheduled a minute ahead');
    const before = await sql<{ n: number }>`SELECT coalesce(vacuum_count, 0)::int AS n FROM pg_stat_user_tables WHERE relname = 'jobs'`.execute(db);
    await db.updateTable('jobs').set({ run_at: new Date() }).where('id', '=', job.id).execute();
    parley.runner.wake();
    await until(async () => {
      const after = await sql<{ n: number; last: Date | null }>`SELECT coalesce(vacuum_count, 0)::int AS n, last_vacuum AS last FROM pg_stat_user_tables WHERE relname = 'jobs'`.execute(db);
      return after.rows[0]!.n > before.rows[0]!.n || after.rows[0]!.last !== null;
    }, 8000, 'a vacuum of the jobs table');
  } finally {
    await parley.stop();
  }
});
