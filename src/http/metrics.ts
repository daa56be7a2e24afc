import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { queueDepths } from '../jobs/queue.ts';
import type { JobEvents } from '../jobs/runner.ts';

/** Prometheus metrics of one instance: HTTP traffic, latency, and the job queue. */
export interface Metrics {
  registry: Registry;
  jobEvents: JobEvents;
}

export function createMetrics(db: Kysely<DB>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'parley_' });
  const jobsProcessed = new Counter({
    name: 'parley_jobs_processed_total',
    help: 'Jobs finished by this instance, by queue and outcome (completed, retried, dead).',
    labelNames: ['queue', 'outcome'],
    registers: [registry],
  });
  const jobErrors = new Counter({ name: 'parley_job_runner_errors_total', help: 'Errors of the job runner itself (database unreachable while claiming or storing results).', registers: [registry] });
  new Gauge({
    name: 'parley_job_queue_depth',
    help: 'Jobs in the database by queue and state (ready = waiting, running, dead = failed for good).',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await queueDepths(db)) this.set({ queue: row.queue, state: row.state }, Number(row.count));
    },
  });
  return {
    registry,
    jobEvents: {
      onOutcome: (queue, outcome) => jobsProcessed.inc({ queue, outcome }),
      onError: () => jobErrors.inc(),
    },
  };
}

/** Counts and times every request by route pattern (never the raw URL: ids would explode the label set). */
export function instrumentHttp(app: FastifyInstance, registry: Registry): void {
  const requests = new Counter({ name: 'parley_http_requests_total', help: 'HTTP requests by method, route and status.', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'parley_http_request_duration_seconds',
    help: 'HTTP request latency by method and route.',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}
