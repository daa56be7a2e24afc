import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { audit } from '../../core/audit/log.ts';
import type { Database } from '../../db/database.ts';
import { listDeadLetters } from '../../jobs/dead-letters.ts';
import { replayDead } from '../../jobs/queue.ts';
import type { JobRunner } from '../../jobs/runner.ts';
import { actorOf } from '../access.ts';
import { errors } from './schemas.ts';

/** The dead-letter list: background work that failed all its attempts, to inspect and replay (admins). */
const DeadLetterSchema = Type.Object({
  id: Type.Integer(),
  queue: Type.String({ description: 'inbound (webhook events), media.fetch, profile.fetch, ...' }),
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  failedAt: Type.String({ format: 'date-time' }),
  createdAt: Type.String({ format: 'date-time' }),
  payload: Type.Unknown(),
  inbound: Type.Union([
    Type.Object({ channelId: Type.String(), eventType: Type.String(), eventKey: Type.String(), receivedAt: Type.String({ format: 'date-time' }) }),
    Type.Null(),
  ]),
});

export async function deadLetterRoutes(app: FastifyInstance, deps: { database: Database; runner: JobRunner }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = deps.database.db;
  const config = { roles: ['admin'] as const };
  const tags = ['Operations'];

  r.get('/api/v1/dead-letters', {
    config,
    schema: {
      tags,
      summary: 'Background work that failed all its attempts',
      querystring: Type.Object({ queue: Type.Optional(Type.String({ maxLength: 100 })), limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }) }),
      response: { 200: Type.Object({ deadLetters: Type.Array(DeadLetterSchema) }), ...errors(400, 401, 403) },
    },
  }, async (request) => ({ deadLetters: await listDeadLetters(db, request.query) }));

  r.post('/api/v1/dead-letters/replay', {
    config,
    schema: {
      tags,
      summary: 'Replay dead jobs once their cause is fixed',
      description: 'Each job gets a fresh set of attempts. Handlers are idempotent: what was already applied is not applied twice.',
      body: Type.Object({ ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 1000 }) }),
      response: { 200: Type.Object({ replayed: Type.Integer() }), ...errors(401, 403, 422) },
    },
  }, async (request) => {
    const replayed = await db.transaction().execute(async (trx) => {
      const count = await replayDead(trx, request.body.ids);
      await audit(trx, { actor: actorOf(request), action: 'jobs.replayed', details: { ids: request.body.ids, replayed: count } });
      return count;
    });
    deps.runner.wake();
    return { replayed };
  });
}
