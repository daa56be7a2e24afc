import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Database } from '../db/database.ts';
import { schemaStatus } from '../db/migrate.ts';
import type { JobRunner } from '../jobs/runner.ts';

/** Liveness, readiness and Prometheus metrics; open to load balancers and scrapers. */
export function registerHealth(app: FastifyInstance, deps: { database: Database; runner: JobRunner; registry: Registry }): void {
  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { public: true } }, async (_request, reply) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    try {
      await deps.database.ping();
      checks.database = { ok: true };
      const schema = await schemaStatus(deps.database.db);
      checks.migrations = schema.current
        ? { ok: true }
        : { ok: false, detail: schema.unknown.length ? `database has newer migrations: ${schema.unknown.join(', ')}` : `pending: ${schema.pending.join(', ')}` };
    } catch (error) {
      checks.database = { ok: false, detail: (error as Error).message };
      checks.migrations = { ok: false, detail: 'database unreachable' };
    }
    checks.jobs = deps.runner.running ? { ok: true, detail: `${deps.runner.busy} running` } : { ok: false, detail: 'job workers stopped' };
    const ready = Object.values(checks).every((c) => c.ok);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });

  app.get('/metrics', { config: { public: true } }, async (_request, reply) => {
    const text = await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(text);
  });
}
