import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * The durable job queue, stored in the `jobs` table: a job is inserted in the same transaction
 * as the change that calls for it, claimed with FOR UPDATE SKIP LOCKED under a lease, deleted
 * when done, retried with backoff when it fails, and kept as `dead` (the dead-letter list) when
 * its attempts are spent.
 */
export interface NewJob {
  queue: string;
  payload?: unknown;
  /** Run no earlier than this. */
  runAt?: Date;
  /** Jobs sharing a group key run one at a time, in the order they were enqueued. */
  groupKey?: string;
  /** At most one live (not dead) job per singleton key; a second enqueue is a no-op. */
  singletonKey?: string;
  maxAttempts?: number;
}

export interface Job {
  id: number;
  queue: string;
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  groupKey: string | null;
  createdAt: Date;
}

/** Enqueues through `executor`: pass a transaction to make the job part of it. Returns the id, or null for a singleton already queued. */
export async function enqueue(executor: Kysely<DB>, job: NewJob): Promise<number | null> {
  const row = await executor
    .insertInto('jobs')
    .values({
      queue: job.queue,
      payload: JSON.stringify(job.payload ?? {}),
      run_at: job.runAt ?? new Date(),
      group_key: job.groupKey ?? null,
      singleton_key: job.singletonKey ?? null,
      max_attempts: job.maxAttempts ?? 10,
    })
    .onConflict((oc) => oc.column('singleton_key').where('singleton_key', 'is not', null).where('state', '<>', 'dead').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id ?? null;
}

export async function claim(db: Kysely<DB>, queues: string[], worker: string, limit: number, leaseMs: number): Promise<Job[]> {
  if (limit <= 0 || queues.length === 0) return [];
  const result = await sql<{ id: number; queue: string; payload: unknown; attempts: number; max_attempts: number; group_key: string | null; created_at: Date }>`
    UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ${worker},
      locked_until = now() + make_interval(secs => ${leaseMs / 1000}), updated_at = now()
    WHERE id IN (
      SELECT j.id FROM jobs j
      WHERE j.queue = ANY(${queues}::text[]) AND j.state = 'ready' AND j.run_at <= now()
        AND (j.group_key IS NULL OR NOT EXISTS (
          SELECT 1 FROM jobs e WHERE e.group_key = j.group_key AND e.id < j.id AND e.state <> 'dead'))
      ORDER BY j.run_at, j.id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING id, queue, payload, attempts, max_attempts, group_key, created_at`.execute(db);
  // RETURNING has no order: hand jobs out in queue order
  return result.rows.sort((a, b) => a.id - b.id).map((r) => ({
    id: r.id,
    queue: r.queue,
    payload: r.payload,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    groupKey: r.group_key,
    createdAt: r.created_at,
  }));
}

export async function complete(db: Kysely<DB>, job: Job, worker: string): Promise<void> {
  await db.deleteFrom('jobs').where('id', '=', job.id).where('locked_by', '=', worker).execute();
}

export async function completeMany(db: Kysely<DB>, jobs: Job[], worker: string): Promise<void> {
  if (jobs.length === 0) return;
  await db.deleteFrom('jobs').where('id', 'in', jobs.map((j) => j.id)).where('locked_by', '=', worker).execute();
}

/** Schedules another attempt after `delayMs`, or marks the job dead when it has none left (or `final`). Returns the new state. */
export async function fail(db: Kysely<DB>, job: Job, worker: string, error: string, delayMs: number, final: boolean): Promise<'ready' | 'dead'> {
  const state = final || job.attempts >= job.maxAttempts ? 'dead' : 'ready';
  await db
    .updateTable('jobs')
    .set({
      state,
      run_at: sql`now() + make_interval(secs => ${delayMs / 1000})`,
      last_error: error.slice(0, 2000),
      locked_by: null,
      locked_until: null,
      updated_at: sql`now()`,
    })
    .where('id', '=', job.id)
    .where('locked_by', '=', worker)
    .execute();
  return state;
}

/** Returns jobs whose worker vanished (crash, kill) to the queue once their lease has run out. */
export async function releaseExpiredLeases(db: Kysely<DB>): Promise<number> {
  const result = await sql`
    UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'ready' END,
      locked_by = NULL, locked_until = NULL, last_error = 'lease expired: the worker stopped before finishing', updated_at = now()
    WHERE state = 'running' AND locked_until < now()`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Jobs waiting, running and dead per queue (for metrics and readiness). */
export async function queueDepths(db: Kysely<DB>): Promise<{ queue: string; state: string; count: number }[]> {
  return db
    .selectFrom('jobs')
    .select(['queue', 'state', (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy(['queue', 'state'])
    .execute();
}

/** Dead jobs go back to the queue for a fresh set of attempts (after the cause is fixed). */
export async function replayDead(db: Kysely<DB>, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db
    .updateTable('jobs')
    .set({ state: 'ready', attempts: 0, run_at: sql`now()`, last_error: null, updated_at: sql`now()` })
    .where('id', 'in', ids)
    .where('state', '=', 'dead')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
