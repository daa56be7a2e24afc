import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import * as settings from '../../core/routing/settings.ts';
import type { Database } from '../../db/database.ts';
import { actorOf } from '../access.ts';
import { errors, Id } from './schemas.ts';
import {
  AgentInput, AgentSchema, agentView, NewQueue, NewTemplate, NewWorkstream, QueueInput, QueueSchema, queueView, RuleInput, RuleSchema,
  TemplateInput, TemplateSchema, templateView, Uuid, UuidParams, WorkstreamInput, WorkstreamSchema, workstreamView,
} from './routing-schemas.ts';

/** Configuration of distribution: administrators change it, supervisors may read it. */
export async function routingRoutes(app: FastifyInstance, deps: { database: Database }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db, notifier } = deps.database;
  const read = { roles: ['admin', 'supervisor'] as const };
  const write = { roles: ['admin'] as const };
  const TemplateParams = Type.Object({ id: Uuid, templateId: Uuid });
  const UserParams = Type.Object({ userId: Id });
  const view = async (id: string) => workstreamView(await settings.getWorkstream(db, id));

  // ---- workstreams
  let tags = ['Workstreams'];
  r.get('/api/v1/workstreams', { config: read, schema: { tags, summary: 'List workstreams', response: { 200: Type.Object({ workstreams: Type.Array(WorkstreamSchema) }), ...errors(401, 403) } } },
    async () => ({ workstreams: (await settings.listWorkstreams(db)).map(workstreamView) }));
  r.post('/api/v1/workstreams', { config: write, schema: { tags, summary: 'Create a workstream', body: NewWorkstream, response: { 201: WorkstreamSchema, ...errors(401, 403, 409, 422) } } },
    async (request, reply) => reply.status(201).send(workstreamView(await settings.createWorkstream(db, request.body, actorOf(request)))));
  r.get('/api/v1/workstreams/:id', { config: read, schema: { tags, summary: 'One workstream', params: UuidParams, response: { 200: WorkstreamSchema, ...errors(401, 403, 404) } } },
    async (request) => view(request.params.id));
  r.patch('/api/v1/workstreams/:id', { config: write, schema: { tags, summary: 'Change a workstream', params: UuidParams, body: WorkstreamInput, response: { 200: WorkstreamSchema, ...errors(401, 403, 404, 409, 422) } } },
    async (request) => workstreamView(await settings.updateWorkstream(db, request.params.id, request.body, actorOf(request))));
  r.delete('/api/v1/workstreams/:id', { config: write, schema: { tags, summary: 'Delete a workstream', description: 'Refused (409) while it has conversations that are not closed; its channels become unbound.', params: UuidParams, response: { 204: Type.Null(), ...errors(401, 403, 404, 409) } } },
    async (request, reply) => {
      await settings.deleteWorkstream(db, request.params.id, actorOf(request));
      return reply.status(204).send(null);
    });
  r.put('/api/v1/workstreams/:id/channels', {
    config: write,
    schema: { tags, summary: 'Bind channel instances', description: 'Exactly these channel instances belong to the workstream; one bound to another workstream moves here.', params: UuidParams, body: Type.Object({ channelIds: Type.Array(Uuid) }), response: { 200: WorkstreamSchema, ...errors(401, 403, 404, 422) } },
  }, async (request) => workstreamView(await settings.bindChannels(db, request.params.id, request.body.channelIds, actorOf(request))));

  r.get('/api/v1/workstreams/:id/rules', { config: read, schema: { tags, summary: 'Routing rules, in order', params: UuidParams, response: { 200: Type.Object({ rules: Type.Array(RuleSchema) }), ...errors(401, 403, 404) } } },
    async (request) => ({ rules: (await settings.listRules(db, request.params.id)).map(ruleView) }));
  r.put('/api/v1/workstreams/:id/rules', {
    config: write,
    schema: { tags, summary: 'Replace the routing rules', description: 'The first enabled rule whose conditions hold (all or any) routes the conversation; none matching routes it to the default queue.', params: UuidParams, body: Type.Object({ rules: Type.Array(RuleInput) }), response: { 200: Type.Object({ rules: Type.Array(RuleSchema) }), ...errors(401, 403, 404, 422) } },
  }, async (request) => ({ rules: (await settings.replaceRules(db, request.params.id, request.body.rules as settings.RuleInput[], actorOf(request))).map(ruleView) }));

  // ---- templates
  tags = ['Templates'];
  r.get('/api/v1/workstreams/:id/templates', { config: read, schema: { tags, summary: "A workstream's message templates", params: UuidParams, response: { 200: Type.Object({ templates: Type.Array(TemplateSchema) }), ...errors(401, 403, 404) } } },
    async (request) => ({ templates: (await settings.listTemplates(db, request.params.id)).map((t) => templateView(t, settings.templateVariables(t.body))) }));
  r.post('/api/v1/workstreams/:id/templates', { config: write, schema: { tags, summary: 'Add a template', params: UuidParams, body: NewTemplate, response: { 201: TemplateSchema, ...errors(401, 403, 404, 409, 422) } } },
    async (request, reply) => {
      const t = await settings.createTemplate(db, request.params.id, request.body, actorOf(request));
      return reply.status(201).send(templateView(t, settings.templateVariables(t.body)));
    });
  r.patch('/api/v1/workstreams/:id/templates/:templateId', { config: write, schema: { tags, summary: 'Change a template', params: TemplateParams, body: TemplateInput, response: { 200: TemplateSchema, ...errors(401, 403, 404, 409, 422) } } },
    async (request) => {
      const t = await settings.updateTemplate(db, request.params.id, request.params.templateId, request.body, actorOf(request));
      return templateView(t, settings.templateVariables(t.body));
    });
  r.delete('/api/v1/workstreams/:id/templates/:templateId', { config: write, schema: { tags, summary: 'Delete a template', params: TemplateParams, response: { 204: Type.Null(), ...errors(401, 403, 404) } } },
    async (request, reply) => {
      await settings.deleteTemplate(db, request.params.id, request.params.templateId, actorOf(request));
      return reply.status(204).send(null);
    });

  // ---- queues
  tags = ['Queues'];
  r.get('/api/v1/queues', { config: read, schema: { tags, summary: 'List queues', response: { 200: Type.Object({ queues: Type.Array(QueueSchema) }), ...errors(401, 403) } } },
    async () => ({ queues: (await settings.listQueues(db)).map(queueView) }));
  r.post('/api/v1/queues', { config: write, schema: { tags, summary: 'Create a queue', body: NewQueue, response: { 201: QueueSchema, ...errors(401, 403, 409, 422) } } },
    async (request, reply) => reply.status(201).send(queueView(await settings.createQueue(db, request.body, actorOf(request)))));
  r.get('/api/v1/queues/:id', { config: read, schema: { tags, summary: 'One queue', params: UuidParams, response: { 200: QueueSchema, ...errors(401, 403, 404) } } },
    async (request) => queueView(await settings.getQueue(db, request.params.id)));
  r.patch('/api/v1/queues/:id', { config: write, schema: { tags, summary: 'Change a queue', params: UuidParams, body: QueueInput, response: { 200: QueueSchema, ...errors(401, 403, 404, 409, 422) } } },
    async (request) => queueView(await settings.updateQueue(db, request.params.id, request.body, actorOf(request))));
  r.delete('/api/v1/queues/:id', { config: write, schema: { tags, summary: 'Delete a queue', params: UuidParams, response: { 204: Type.Null(), ...errors(401, 403, 404, 409) } } },
    async (request, reply) => {
      await settings.deleteQueue(db, request.params.id, actorOf(request));
      return reply.status(204).send(null);
    });
  r.put('/api/v1/queues/:id/members', {
    config: write,
    schema: { tags, summary: 'Set the members', description: 'Exactly these users, in this order (round robin walks it).', params: UuidParams, body: Type.Object({ userIds: Type.Array(Id) }), response: { 200: QueueSchema, ...errors(401, 403, 404) } },
  }, async (request) => queueView(await settings.setQueueMembers(db, request.params.id, request.body.userIds, actorOf(request))));

  // ---- agents
  tags = ['Agents'];
  r.get('/api/v1/agents', { config: read, schema: { tags, summary: 'Agents with presence, capacity, skills and queues', response: { 200: Type.Object({ agents: Type.Array(AgentSchema) }), ...errors(401, 403) } } },
    async () => ({ agents: (await settings.listAgents(db)).map(agentView) }));
  r.get('/api/v1/agents/:userId', { config: read, schema: { tags, summary: 'One agent', params: UserParams, response: { 200: AgentSchema, ...errors(401, 403, 404) } } },
    async (request) => agentView(await settings.getAgent(db, request.params.userId)));
  r.patch('/api/v1/agents/:userId', {
    config: write,
    schema: { tags, summary: "Change an agent's capacity, skills, queues or presence", description: 'Skills and queues, when given, replace the current ones.', params: UserParams, body: AgentInput, response: { 200: AgentSchema, ...errors(401, 403, 404, 422) } },
  }, async (request) => agentView(await settings.updateAgent(db, notifier, request.params.userId, request.body, actorOf(request))));
}

function ruleView(rule: Awaited<ReturnType<typeof settings.listRules>>[number]) {
  return { id: rule.id, position: rule.position, name: rule.name, enabled: rule.enabled, match: rule.match, conditions: rule.conditions, queueId: rule.queue_id, skills: rule.skills, priority: rule.priority };
}
