import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import Type from 'typebox';
import { notFound } from '../../core/errors.ts';
import { isMember, mayHandleConversation, maySeeConversation, ownsOffer } from '../../core/routing/scope.ts';
import { getAgent } from '../../core/routing/settings.ts';
import * as work from '../../core/routing/work.ts';
import type { Database } from '../../db/database.ts';
import { actorOf, currentUser } from '../access.ts';
import { AgentSchema, agentView, Presence, Uuid, UuidParams } from './routing-schemas.ts';
import { errors, Id } from './schemas.ts';

/** What agents do with their work, and supervisors with everyone's. */
export async function workRoutes(app: FastifyInstance, deps: { database: Database }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db, notifier } = deps.database;
  const everyone = ['admin', 'supervisor', 'agent'] as const;
  const id = (request: FastifyRequest) => (request.params as { id: string }).id;
  const handles = { roles: everyone, scope: (request: FastifyRequest, user: Parameters<typeof mayHandleConversation>[1]) => mayHandleConversation(db, user, id(request)) };
  const sees = { roles: everyone, scope: (request: FastifyRequest, user: Parameters<typeof maySeeConversation>[1]) => maySeeConversation(db, user, id(request)) };
  const Done = Type.Object({ ok: Type.Literal(true) });
  const ok = { ok: true as const };
  const OfferSchema = Type.Object({ id: Uuid, conversationId: Uuid, queueId: Type.Union([Uuid, Type.Null()]), note: Type.Union([Type.String(), Type.Null()]), createdAt: Type.String({ format: 'date-time' }), expiresAt: Type.String({ format: 'date-time' }) });
  let tags = ['Agents'];

  r.get('/api/v1/agents/me', { config: { roles: everyone }, schema: { tags, summary: 'My presence, capacity, skills and queues', response: { 200: AgentSchema, ...errors(401) } } },
    async (request) => agentView(await getAgent(db, currentUser(request).id)));
  r.put('/api/v1/agents/me/presence', {
    config: { roles: everyone },
    schema: { tags, summary: 'Set my presence', description: 'Available starts offering waiting conversations; offline withdraws pending offers, which go to the next agent.', body: Type.Object({ presence: Presence }), response: { 200: AgentSchema, ...errors(401, 422) } },
  }, async (request) => {
    await work.setPresence(db, notifier, currentUser(request).id, request.body.presence, actorOf(request));
    return agentView(await getAgent(db, currentUser(request).id));
  });
  r.get('/api/v1/agents/me/offers', { config: { roles: everyone }, schema: { tags, summary: 'Conversations offered to me now', response: { 200: Type.Object({ offers: Type.Array(OfferSchema) }), ...errors(401) } } },
    async (request) => {
      const rows = await db.selectFrom('offers').selectAll().where('user_id', '=', currentUser(request).id).where('state', '=', 'pending').orderBy('created_at').execute();
      return { offers: rows.map((o) => ({ id: o.id, conversationId: o.conversation_id, queueId: o.queue_id, note: o.note, createdAt: o.created_at.toISOString(), expiresAt: o.expires_at.toISOString() })) };
    });

  tags = ['Offers'];
  const mine = { roles: everyone, scope: (request: FastifyRequest, user: Parameters<typeof ownsOffer>[1]) => ownsOffer(db, user, id(request)) };
  r.post('/api/v1/offers/:id/accept', { config: mine, schema: { tags, summary: 'Accept a conversation offered to me', params: UuidParams, response: { 200: Done, ...errors(401, 403, 404, 409) } } },
    async (request) => {
      await work.acceptOffer(db, notifier, request.params.id, actorOf(request));
      return ok;
    });
  r.post('/api/v1/offers/:id/reject', { config: mine, schema: { tags, summary: 'Reject it: it goes to the next agent', params: UuidParams, response: { 200: Done, ...errors(401, 403, 404, 409) } } },
    async (request) => {
      await work.rejectOffer(db, notifier, request.params.id, actorOf(request));
      return ok;
    });

  tags = ['Conversations'];
  const EventSchema = Type.Object({ at: Type.String({ format: 'date-time' }), kind: Type.String(), from: Type.Union([Type.String(), Type.Null()]), to: Type.Union([Type.String(), Type.Null()]), actor: Type.String(), agentUserId: Type.Union([Type.Integer(), Type.Null()]), queueId: Type.Union([Uuid, Type.Null()]), reason: Type.Union([Type.String(), Type.Null()]), details: Type.Record(Type.String(), Type.Unknown()) });
  const RoutingSchema = Type.Object({
    id: Uuid, state: Type.String(), workstreamId: Type.Union([Uuid, Type.Null()]), queueId: Type.Union([Uuid, Type.Null()]), assignedUserId: Type.Union([Type.Integer(), Type.Null()]),
    priority: Type.Integer(), waitSeconds: Type.Union([Type.Integer(), Type.Null()], { description: 'how long the customer has waited for an agent' }), events: Type.Array(EventSchema),
  });
  r.get('/api/v1/conversations/:id/routing', { config: sees, schema: { tags, summary: "A conversation's distribution state and history", params: UuidParams, response: { 200: RoutingSchema, ...errors(401, 403, 404) } } },
    async (request) => {
      const c = await db.selectFrom('conversations').selectAll().select(sql<number | null>`floor(extract(epoch from now() - waiting_since))::int`.as('wait')).where('id', '=', request.params.id).executeTakeFirst();
      if (!c) throw notFound('conversation');
      const events = await db.selectFrom('conversation_events').selectAll().where('conversation_id', '=', c.id).orderBy('id').execute();
      return {
        id: c.id, state: c.state, workstreamId: c.workstream_id, queueId: c.queue_id, assignedUserId: c.assigned_user_id, priority: c.priority,
        waitSeconds: c.state === 'open' || c.state === 'offered' ? c.wait : null,
        events: events.map((e) => ({ at: e.at.toISOString(), kind: e.kind, from: e.from_state, to: e.to_state, actor: e.actor_label, agentUserId: e.agent_user_id, queueId: e.queue_id, reason: e.reason, details: e.details })),
      };
    });
  r.post('/api/v1/conversations/:id/transfer', {
    config: handles,
    schema: { tags, summary: 'Transfer to a queue or an agent', description: 'To a queue: it waits there for the next cycle. To an agent: it is offered to them.', params: UuidParams, body: Type.Object({ queueId: Type.Optional(Uuid), userId: Type.Optional(Id), note: Type.Optional(Type.String({ maxLength: 2000 })) }), response: { 200: Done, ...errors(401, 403, 404, 409, 422) } },
  }, async (request) => {
    await work.transferConversation(db, notifier, request.params.id, request.body, actorOf(request));
    return ok;
  });
  r.post('/api/v1/conversations/:id/wait', {
    config: handles,
    schema: { tags, summary: 'Wait for the customer', description: 'An active conversation becomes waiting: it stays assigned, holding its capacity, and the customer\'s next message makes it active again. The workstream can keep it open past auto-close.', params: UuidParams, response: { 200: Done, ...errors(401, 403, 404, 409) } },
  }, async (request) => {
    await work.waitForCustomer(db, notifier, request.params.id, actorOf(request));
    return ok;
  });
  r.post('/api/v1/conversations/:id/resume', { config: handles, schema: { tags, summary: 'Stop waiting for the customer: active again', params: UuidParams, response: { 200: Done, ...errors(401, 403, 404, 409) } } },
    async (request) => {
      await work.resumeConversation(db, notifier, request.params.id, actorOf(request));
      return ok;
    });
  r.post('/api/v1/conversations/:id/end', { config: handles, schema: { tags, summary: 'End it: wrap-up', params: UuidParams, response: { 200: Done, ...errors(401, 403, 404, 409) } } },
    async (request) => {
      await work.endConversation(db, notifier, request.params.id, actorOf(request));
      return ok;
    });
  r.post('/api/v1/conversations/:id/close', { config: handles, schema: { tags, summary: 'Close it (after wrap-up); its capacity frees', params: UuidParams, response: { 200: Done, ...errors(401, 403, 404, 409) } } },
    async (request) => {
      await work.closeConversation(db, notifier, request.params.id, actorOf(request));
      return ok;
    });
  r.post('/api/v1/conversations/:id/reopen', { config: handles, schema: { tags, summary: 'Reopen a recently closed conversation, assigned to me', params: UuidParams, response: { 200: Done, ...errors(401, 403, 404, 409) } } },
    async (request) => {
      await work.reopenConversation(db, notifier, request.params.id, currentUser(request).id, actorOf(request));
      return ok;
    });
  r.post('/api/v1/conversations/:id/assign', {
    config: { roles: ['admin', 'supervisor'] },
    schema: { tags, summary: 'Assign or reassign directly to an agent', params: UuidParams, body: Type.Object({ userId: Id }), response: { 200: Done, ...errors(401, 403, 404, 409) } },
  }, async (request) => {
    await work.assignConversation(db, notifier, request.params.id, request.body.userId, actorOf(request));
    return ok;
  });

  tags = ['Queues'];
  r.get('/api/v1/queues/:id/waiting', {
    config: { roles: everyone, scope: (request, user) => isMember(db, user, id(request)) },
    schema: { tags, summary: "A queue's waiting list, in the order it is served", params: UuidParams, response: { 200: Type.Object({ waiting: Type.Array(Type.Object({ conversationId: Uuid, priority: Type.Integer(), waitSeconds: Type.Integer() })) }), ...errors(401, 403) } },
  }, async (request) => {
    const rows = await db
      .selectFrom('conversations')
      .select(['id', 'priority', sql<number>`floor(extract(epoch from now() - waiting_since))::int`.as('wait')])
      .where('queue_id', '=', request.params.id)
      .where('state', '=', 'open')
      .orderBy('priority', 'desc')
      .orderBy('waiting_since')
      .limit(500)
      .execute();
    return { waiting: rows.map((w) => ({ conversationId: w.id, priority: w.priority, waitSeconds: w.wait })) };
  });
}
