import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { enqueue } from '../../src/jobs/queue.ts';
import { startTestParley } from '../helpers/parley.ts';

test('liveness, readiness and metrics answer, and every response carries a request id', async () => {
  const parley = await startTestParley();
  try {
    const health = await parley.request('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.match(health.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);

    const echoed = await parley.request('/healthz', { headers: { 'x-request-id': 'lb-1234' } });
    assert.equal(echoed.headers.get('x-request-id'), 'lb-1234');

    const ready = await parley.request('/readyz');
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    assert.equal(body.status, 'ready');
    assert.deepEqual(Object.keys(body.checks).sort(), ['database', 'jobs', 'migrations']);

    await enqueue(parley.database.db, { queue: 'nobody-handles-this' });
    await parley.request('/nope');
    const metrics = await (await parley.request('/metrics')).text();
    assert.match(metrics, /parley_http_requests_total\{method="GET",route="\/healthz",status="200"\} 2/);
    assert.match(metrics, /parley_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
    assert.match(metrics, /parley_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/readyz"\}/);
    assert.match(metrics, /parley_job_queue_depth\{queue="nobody-handles-this",state="ready"\} 1/);
    assert.match(metrics, /parley_jobs_processed_total|parley_job_runner_errors_total 0/);
  } finally {
    await parley.stop();
  }
});

test('readiness fails with the reason when migrations are not current or the job workers stopped', async () => {
  const parley = await startTestParley();
  try {
    await sql`INSERT INTO parley_migrations (name, timestamp) VALUES ('9999_newer', now()::text)`.execute(parley.database.db);
    let body = (await (await parley.request('/readyz')).json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
    assert.equal(body.checks.migrations!.ok, false);
    assert.match(body.checks.migrations!.detail!, /9999_newer/);
    await sql`DELETE FROM parley_migrations WHERE name = '9999_newer'`.execute(parley.database.db);
    await parley.runner.stop();
    const response = await parley.request('/readyz');
    assert.equal(response.status, 503);
    body = (await response.json()) as typeof body;
    assert.deepEqual(body.checks.jobs, { ok: false, detail: 'job workers stopped' });
  } finally {
    await parley.stop();
  }
});

test('errors answer as JSON with a code and a message, never a stack trace', async () => {
  const parley = await startTestParley();
  try {
    parley.app.log.level = 'silent';
    const response = await parley.request('/no/such/route');
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { error: { code: 'not_found', message: 'no route for GET /no/such/route' } });
  } finally {
    await parley.stop();
  }
});

test('stopping finishes in-flight requests and jobs before closing the database', async () => {
  const parley = await startTestParley();
  let jobDone = false;
  parley.runner.register('slow-job', async () => {
    await new Promise((r) => setTimeout(r, 400));
    jobDone = true;
  });
  parley.runner.wake();
  await enqueue(parley.database.db, { queue: 'slow-job' });
  // wait for a worker to claim it (a busy machine may take longer than a fixed pause)
  for (const started = Date.now(); parley.runner.busy === 0 && Date.now() - started < 5000; ) await new Promise((r) => setTimeout(r, 10));
  assert.equal(parley.runner.busy, 1);
  const stopped = parley.stop();
  await stopped;
  assert.equal(jobDone, true, 'the running job finished');
  await assert.rejects(parley.database.ping(), 'the database is closed');
});
