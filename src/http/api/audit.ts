import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { listAudit } from '../../core/audit/log.ts';
import type { Database } from '../../db/database.ts';
import { AuditEntrySchema, auditView, errors, Id } from './schemas.ts';

/** Reading the audit log: admins only. */
export async function auditRoutes(app: FastifyInstance, deps: { database: Database }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/api/v1/audit-log', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['Audit log'],
      summary: 'The audit log, newest first',
      description: 'Pages: pass the nextBefore of one answer as `before` to get the next (older) page; null means there is no more.',
      querystring: Type.Object({
        action: Type.Optional(Type.String({ minLength: 1, description: 'an action, or an area ending in a dot: "user."' })),
        actorUserId: Type.Optional(Id),
        targetType: Type.Optional(Type.String({ minLength: 1 })),
        targetId: Type.Optional(Type.String({ minLength: 1 })),
        since: Type.Optional(Type.String({ format: 'date-time' })),
        until: Type.Optional(Type.String({ format: 'date-time' })),
        before: Type.Optional(Id),
        limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
      }),
      response: { 200: Type.Object({ entries: Type.Array(AuditEntrySchema), nextBefore: Type.Union([Id, Type.Null()]) }), ...errors(400, 401, 403) },
    },
  }, async (request) => {
    const { since, until, ...rest } = request.query;
    const page = await listAudit(deps.database.db, { ...rest, since: since ? new Date(since) : undefined, until: until ? new Date(until) : undefined });
    return { entries: page.entries.map(auditView), nextBefore: page.nextBefore };
  });
}
