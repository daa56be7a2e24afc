import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../helpers/wait.ts';
import { sql } from 'kysely';
import { openDatabase } from '../../src/db/database.ts';
import { enqueue, queueDepths, replayDead } from '../../src/jobs/queue.ts';
import { JobRunner, PermanentFailure, RetryLater } from '../../src/jobs/runner.ts';
import { freshDatabase, onPostgres, type TestDatabase } from '../helpers/db.ts';

async function withRunner(fn: (database: TestDatabase, runner: JobRunner) => Promise<void>, concurrency = 4): Promise<void> {
  const database = await freshDatabase();
  const runner = new JobRunner(database.db, database.notifier, { concurrency, pollMs: 50 });
  try {
    await fn(database, runner);
  } finally {
    await runner.stop(2000);
    await database.close();
  }
}

const jobCount = async (database: TestDatabase, state?: string) => {
  const rows = await queueDepths(database.db);
  return rows.filter((r) => !state || r.state === state).reduce((n, r) => n + Number(r.count), 0);
};

test('an enqueued job runs promptly (woken by NOTIFY) and is removed when done', async () => {
  await withRunner(async (database, runner) => {
    const seen: unknown[] = [];
    runner.register('greet', async (job) => void seen.push(job.payload));
    await runner.start();
    const started = Date.now();
    await enqueue(database.db, { queue: 'greet', payload: { name: 'Ana' } });
    await until(() => seen.length === 1);
    assert.ok(Date.now() - started < 1000);
    assert.deepEqual(seen, [{ name: 'Ana' }]);
    await until(async () => (await jobCount(database)) === 0);
  });
});

test('a job that fails is retried and then succeeds', async () => {
  await withRunner(async (database, runner) => {
    let calls = 0;
    runner.register('flaky', async () => {
      calls += 1;
      if (calls < 3) throw new RetryLater(`provider unavailable (attempt ${calls})`, 20);
    });
    await runner.start();
    await enqueue(database.db, { queue: 'flaky' });
    await until(() => calls === 3);
    await until(async () => (await jobCount(database)) === 0);
  });
});

test('a job that keeps failing ends in the dead-letter list with its error, and can be replayed', async () => {
  await withRunner(async (database, runner) => {
    let fixed = false;
    let calls = 0;
    runner.register('broken', async () => {
      calls += 1;
      if (!fixed) throw new RetryLater('still broken', 10);
    });
    await runner.start();
    const id = (await enqueue(database.db, { queue: 'broken', maxAttempts: 3 }))!;
    await until(async () => (await jobCount(database, 'dead')) === 1);
    assert.equal(calls, 3);
    const dead = await database.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(dead.last_error, 'still broken');
    fixed = true;
    assert.equal(await replayDead(database.db, [id]), 1);
    runner.wake();
    await until(async () => (await jobCount(database)) === 0);
    assert.equal(calls, 4);
  });
});

test('a permanent failure is not retried', async () => {
  await withRunner(async (database, runner) => {
    let calls = 0;
    runner.register('invalid', async () => {
      calls += 1;
      throw new PermanentFailure('recipient does not exist');
    });
    await runner.start();
    await enqueue(database.db, { queue: 'invalid' });
    await until(async () => (await jobCount(database, 'dead')) === 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(calls, 1);
  });
});

test('jobs of one group run one at a time in order, even when an earlier one is retried', async () => {
  await withRunner(async (database, runner) => {
    const order: number[] = [];
    let failedOnce = false;
    let running = 0;
    let maxRunning = 0;
    runner.register('ordered', async (job) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
      const n = (job.payload as { n: number }).n;
      if (n === 2 && !failedOnce) {
        failedOnce = true;
        throw new RetryLater('transient', 30);
      }
      order.push(n);
    });
    for (let n = 1; n <= 6; n++) await enqueue(database.db, { queue: 'ordered', payload: { n }, groupKey: 'conversation-1' });
    await runner.start();
    await until(() => order.length === 6);
    assert.deepEqual(order, [1, 2, 3, 4, 5, 6]);
    assert.equal(maxRunning, 1);
  }, 8);
});

test('a singleton job is queued once, and a scheduled job waits for its time', async () => {
  await withRunner(async (database, runner) => {
    const ran: number[] = [];
    runner.register('later', async () => void ran.push(Date.now()));
    const runAt = new Date(Date.now() + 300);
    assert.notEqual(await enqueue(database.db, { queue: 'later', singletonKey: 'recheck:page-1', runAt }), null);
    assert.equal(await enqueue(database.db, { queue: 'later', singletonKey: 'recheck:page-1' }), null);
    await runner.start();
    await until(() => ran.length === 1);
    // measured from the time it was given, not from when the (possibly slow) enqueue returned
    assert.ok(ran[0]! >= runAt.getTime() - 50, 'not before its time');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(ran.length, 1);
  });
});

test('a recurring job runs again after each run', async () => {
  await withRunner(async (_database, runner) => {
    let runs = 0;
    runner.every('tick', 60, async () => void (runs += 1));
    await runner.start();
    await until(() => runs >= 3);
  });
});

test('a job whose worker died is taken over when its lease expires', async () => {
  await withRunner(async (database, runner) => {
    const id = (await enqueue(database.db, { queue: 'orphan' }))!;
    // as if a crashed worker had claimed it
    await sql`UPDATE jobs SET state = 'running', attempts = 1, locked_by = 'dead-worker', locked_until = now() - interval '1 second' WHERE id = ${id}`.execute(database.db);
    let ran = 0;
    runner.register('orphan', async () => void (ran += 1));
    await runner.start();
    await until(() => ran === 1);
  });
});

test('stop waits for running jobs to finish', async () => {
  const database = await freshDatabase();
  const runner = new JobRunner(database.db, database.notifier, { concurrency: 2, pollMs: 50 });
  let finished = false;
  runner.register('slow', async () => {
    await new Promise((r) => setTimeout(r, 300));
    finished = true;
  });
  await runner.start();
  await enqueue(database.db, { queue: 'slow' });
  await until(() => runner.busy === 1);
  await runner.stop(5000);
  assert.equal(finished, true);
  assert.equal(await jobCount(database), 0);
  await database.close();
});

test('several runners (instances) share the work and never run a job twice', { skip: !onPostgres && 'needs several connections: PostgreSQL only' }, async () => {
  const database = await freshDatabase();
  const others = await Promise.all([1, 2].map(() => openDatabase({ url: database.url, poolSize: 4 })));
  const all = [database, ...others];
  const counts = new Map<number, number>();
  const runners = all.map((d) => new JobRunner(d.db, d.notifier, { concurrency: 4, pollMs: 20 }));
  const byRunner = runners.map(() => 0);
  runners.forEach((r, i) =>
    r.register('shared', async (job) => {
      counts.set(job.id, (counts.get(job.id) ?? 0) + 1);
      byRunner[i]! += 1;
      await new Promise((res) => setTimeout(res, 2));
    }),
  );
  try {
    await Promise.all(runners.map((r) => r.start()));
    await database.db.insertInto('jobs').values(Array.from({ length: 300 }, (_, n) => ({ queue: 'shared', payload: JSON.stringify({ n }) }))).execute();
    await until(() => counts.size === 300, 20_000);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok([...counts.values()].every((c) => c === 1), 'each job ran exactly once');
    assert.ok(byRunner.filter((n) => n > 0).length >= 2, `work was shared: ${byRunner.join(', ')}`);
  } finally {
    await Promise.all(runners.map((r) => r.stop(2000)));
    for (const d of others) await d.close();
    await database.close();
  }
});
