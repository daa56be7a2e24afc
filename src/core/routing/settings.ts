import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB, OverflowAction, OverflowRule, Presence, QueuesTable, RequiredSkill, RuleCondition, WeeklyHours, WorkstreamTemplatesTable } from '../../db/schema.ts';
import { audit, type Actor } from '../audit/log.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import { conditionProblem } from './classify.ts';
import { calendarProblem } from './hours.ts';
import { METHOD_NAMES } from './methods.ts';
import { dispatchAgentQueues } from './claim.ts';
import { agentRow, setPresence } from './work.ts';
import type { Notifier } from '../../db/notifier.ts';

/**
 * Configuration of distribution: workstreams (with their channels and templates), queues (with
 * members and overflow), routing rules and agents (capacity, skills, queues). Every change is
 * audited in its own transaction.
 */
type Trx = Kysely<DB>;

export interface WorkstreamInput {
  name?: string;
  language?: string | null;
  capacityPerConversation?: number;
  allowedPresences?: Presence[];
  autoCloseHours?: number;
  keepOpenWaiting?: boolean;
  operatingHours?: WeeklyHours | null;
  timeZone?: string;
  holidays?: string[];
  outsideHoursAction?: OverflowAction;
  customerAttachments?: boolean;
  agentAttachments?: boolean;
  facebookHumanAgentTag?: boolean;
  offerTimeoutSeconds?: number;
  missedOffersBeforeAway?: number;
  preferPreviousAgent?: boolean;
  reopenWithinHours?: number;
  defaultQueueId?: string | null;
  skillMatching?: 'exact' | 'closest';
}

const WORKSTREAM_COLUMNS: Record<keyof WorkstreamInput, string> = {
  name: 'name', language: 'language', capacityPerConversation: 'capacity_per_conversation', allowedPresences: 'allowed_presences',
  autoCloseHours: 'auto_close_hours', keepOpenWaiting: 'keep_open_waiting', operatingHours: 'operating_hours', timeZone: 'time_zone',
  holidays: 'holidays', outsideHoursAction: 'outside_hours_action', customerAttachments: 'customer_attachments', agentAttachments: 'agent_attachments',
  facebookHumanAgentTag: 'facebook_human_agent_tag', offerTimeoutSeconds: 'offer_timeout_seconds', missedOffersBeforeAway: 'missed_offers_before_away',
  preferPreviousAgent: 'prefer_previous_agent', reopenWithinHours: 'reopen_within_hours', defaultQueueId: 'default_queue_id', skillMatching: 'skill_matching',
};
const JSON_COLUMNS = new Set(['allowed_presences', 'operating_hours', 'holidays', 'outside_hours_action']);

async function checkAction(trx: Trx, field: string, action: OverflowAction): Promise<void> {
  if (action.type === 'move-to-queue') await mustQueue(trx, action.queueId, field);
}

async function mustQueue(trx: Trx, queueId: string, field: string): Promise<void> {
  const found = await trx.selectFrom('queues').select('id').where('id', '=', queueId).executeTakeFirst();
  if (!found) throw invalid(field, `no queue ${queueId}`);
}

function columnsOf(input: WorkstreamInput): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const column = WORKSTREAM_COLUMNS[key as keyof WorkstreamInput];
    values[column] = JSON_COLUMNS.has(column) && value !== null ? JSON.stringify(value) : value;
  }
  return values;
}

async function checkWorkstream(trx: Trx, input: WorkstreamInput, current?: { operating_hours: WeeklyHours | null; time_zone: string; holidays: string[] }): Promise<void> {
  const problem = calendarProblem({
    hours: input.operatingHours !== undefined ? input.operatingHours : current?.operating_hours ?? null,
    timeZone: input.timeZone ?? current?.time_zone ?? 'UTC',
    holidays: input.holidays ?? current?.holidays ?? [],
  });
  if (problem) throw invalid('operatingHours', problem);
  if (input.outsideHoursAction) await checkAction(trx, 'outsideHoursAction', input.outsideHoursAction);
  if (input.defaultQueueId) await mustQueue(trx, input.defaultQueueId, 'defaultQueueId');
}

export type WorkstreamRow = Awaited<ReturnType<typeof getWorkstream>>;

export async function getWorkstream(db: Trx, id: string) {
  const row = await db.selectFrom('workstreams').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('workstream');
  const channels = await db.selectFrom('channel_instances').select('id').where('workstream_id', '=', id).where('deleted_at', 'is', null).orderBy('created_at').execute();
  return { ...row, channel_ids: channels.map((c) => c.id) };
}

export async function listWorkstreams(db: Trx) {
  const rows = await db.selectFrom('workstreams').select('id').orderBy('name').execute();
  return Promise.all(rows.map((r) => getWorkstream(db, r.id)));
}

function uniqueName<T>(what: string, work: () => Promise<T>): Promise<T> {
  return work().catch((error: unknown) => {
    if ((error as { code?: string }).code === '23505') throw conflict(`a ${what} with this name already exists`);
    throw error;
  });
}

export async function createWorkstream(db: Trx, input: WorkstreamInput & { name: string }, actor: Actor) {
  const id = await uniqueName('workstream', () =>
    db.transaction().execute(async (trx) => {
      await checkWorkstream(trx, input);
      const values = columnsOf(input);
      if (input.facebookHumanAgentTag) values.facebook_tag_enabled_at = new Date();
      const row = await trx.insertInto('workstreams').values(values as never).returning('id').executeTakeFirstOrThrow();
      await audit(trx, { actor, action: 'workstream.created', target: { type: 'workstream', id: row.id }, details: { ...input } });
      return row.id;
    }),
  );
  return getWorkstream(db, id);
}

export async function updateWorkstream(db: Trx, id: string, input: WorkstreamInput, actor: Actor) {
  await uniqueName('workstream', () =>
    db.transaction().execute(async (trx) => {
      const current = await trx.selectFrom('workstreams').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
      if (!current) throw notFound('workstream');
      await checkWorkstream(trx, input, current);
      const values = columnsOf(input);
      // the tag's 7-day window applies only to conversations opened after it was turned on
      if (input.facebookHumanAgentTag === true && !current.facebook_human_agent_tag) values.facebook_tag_enabled_at = new Date();
      if (input.facebookHumanAgentTag === false) values.facebook_tag_enabled_at = null;
      if (Object.keys(values).length === 0) return;
      await trx.updateTable('workstreams').set({ ...(values as object), updated_at: sql`now()` }).where('id', '=', id).execute();
      await audit(trx, { actor, action: 'workstream.updated', target: { type: 'workstream', id }, details: { ...input } });
    }),
  );
  return getWorkstream(db, id);
}

export async function deleteWorkstream(db: Trx, id: string, actor: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const open = await trx.selectFrom('conversations').select('id').where('workstream_id', '=', id).where('state', '<>', 'closed').limit(1).executeTakeFirst();
    if (open) throw conflict('the workstream still has conversations that are not closed');
    const deleted = await trx.deleteFrom('workstreams').where('id', '=', id).returning('name').executeTakeFirst();
    if (!deleted) throw notFound('workstream');
    await audit(trx, { actor, action: 'workstream.deleted', target: { type: 'workstream', id }, details: { name: deleted.name } });
  });
}

/** Binds exactly these channel instances; one bound elsewhere moves here (it belongs to one workstream). */
export async function bindChannels(db: Trx, id: string, channelIds: string[], actor: Actor) {
  await db.transaction().execute(async (trx) => {
    const ws = await trx.selectFrom('workstreams').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
    if (!ws) throw notFound('workstream');
    if (channelIds.length > 0) {
      const found = await trx.selectFrom('channel_instances').select('id').where('id', 'in', channelIds).where('deleted_at', 'is', null).execute();
      const missing = channelIds.find((c) => !found.some((f) => f.id === c));
      if (missing) throw invalid('channelIds', `no channel instance ${missing}`);
    }
    let unbind = trx.updateTable('channel_instances').set({ workstream_id: null }).where('workstream_id', '=', id);
    if (channelIds.length > 0) unbind = unbind.where('id', 'not in', channelIds);
    await unbind.execute();
    if (channelIds.length > 0) await trx.updateTable('channel_instances').set({ workstream_id: id, updated_at: sql`now()` }).where('id', 'in', channelIds).execute();
    await audit(trx, { actor, action: 'workstream.channels_bound', target: { type: 'workstream', id }, details: { channelIds } });
  });
  return getWorkstream(db, id);
}

// ---- templates

export interface TemplateInput {
  name?: string;
  language?: string;
  body?: string;
  providerTemplateId?: string | null;
}

export type Template = Selectable<WorkstreamTemplatesTable>;

/** The numbered variables a body uses, e.g. [1, 2] for "Hi {{1}}, order {{2}}". */
export function templateVariables(body: string): number[] {
  return [...new Set([...body.matchAll(/\{\{\s*(\d+)\s*\}\}/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
}

function checkBody(body: string | undefined): void {
  if (body === undefined) return;
  const vars = templateVariables(body);
  const gap = vars.findIndex((v, i) => v !== i + 1);
  if (gap >= 0) throw invalid('body', `variables must be numbered {{1}}, {{2}}, ... without gaps (found ${vars.map((v) => `{{${v}}}`).join(', ')})`);
}

export async function listTemplates(db: Trx, workstreamId: string): Promise<Template[]> {
  await getWorkstream(db, workstreamId);
  return db.selectFrom('workstream_templates').selectAll().where('workstream_id', '=', workstreamId).orderBy('name').orderBy('language').execute();
}

export async function createTemplate(db: Trx, workstreamId: string, input: Required<Omit<TemplateInput, 'providerTemplateId'>> & TemplateInput, actor: Actor): Promise<Template> {
  checkBody(input.body);
  await getWorkstream(db, workstreamId);
  return uniqueName('template (same language)', () =>
    db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('workstream_templates')
        .values({ workstream_id: workstreamId, name: input.name, language: input.language, body: input.body, provider_template_id: input.providerTemplateId ?? null })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(trx, { actor, action: 'template.created', target: { type: 'template', id: row.id }, details: { workstreamId, name: input.name, language: input.language } });
      return row;
    }),
  );
}

export async function updateTemplate(db: Trx, workstreamId: string, id: string, input: TemplateInput, actor: Actor): Promise<Template> {
  checkBody(input.body);
  return uniqueName('template (same language)', () =>
    db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('workstream_templates')
        .set({
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.language !== undefined ? { language: input.language } : {}),
          ...(input.body !== undefined ? { body: input.body } : {}),
          ...(input.providerTemplateId !== undefined ? { provider_template_id: input.providerTemplateId } : {}),
          updated_at: sql`now()`,
        })
        .where('id', '=', id)
        .where('workstream_id', '=', workstreamId)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw notFound('template');
      await audit(trx, { actor, action: 'template.updated', target: { type: 'template', id }, details: { ...input } });
      return row;
    }),
  );
}

export async function deleteTemplate(db: Trx, workstreamId: string, id: string, actor: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx.deleteFrom('workstream_templates').where('id', '=', id).where('workstream_id', '=', workstreamId).returning('name').executeTakeFirst();
    if (!row) throw notFound('template');
    await audit(trx, { actor, action: 'template.deleted', target: { type: 'template', id }, details: { workstreamId, name: row.name } });
  });
}

// ---- queues

export interface QueueInput {
  name?: string;
  priority?: number;
  assignmentMethod?: (typeof METHOD_NAMES)[number];
  maxSize?: number | null;
  overflow?: OverflowRule[];
}

export type QueueRow = Selectable<QueuesTable> & { member_ids: number[] };

export async function getQueue(db: Trx, id: string): Promise<QueueRow> {
  const row = await db.selectFrom('queues').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('queue');
  const members = await db.selectFrom('queue_members').select('user_id').where('queue_id', '=', id).orderBy('position').execute();
  return { ...row, member_ids: members.map((m) => m.user_id) };
}

export async function listQueues(db: Trx): Promise<QueueRow[]> {
  const rows = await db.selectFrom('queues').select('id').orderBy('priority', 'desc').orderBy('name').execute();
  return Promise.all(rows.map((r) => getQueue(db, r.id)));
}

async function checkQueue(trx: Trx, input: QueueInput, selfId?: string): Promise<void> {
  for (const [i, rule] of (input.overflow ?? []).entries()) {
    if (rule.when === 'waiting' && (rule.afterMinutes === undefined || rule.afterMinutes <= 0)) throw invalid(`overflow.${i}.afterMinutes`, 'a "waiting" rule needs afterMinutes');
    if (rule.action.type === 'move-to-queue' && rule.action.queueId === selfId) throw invalid(`overflow.${i}.action.queueId`, 'a queue cannot overflow into itself');
    await checkAction(trx, `overflow.${i}.action.queueId`, rule.action);
  }
}

function queueColumns(input: QueueInput) {
  return {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.priority !== undefined ? { priority: input.priority } : {}),
    ...(input.assignmentMethod !== undefined ? { assignment_method: input.assignmentMethod } : {}),
    ...(input.maxSize !== undefined ? { max_size: input.maxSize } : {}),
    ...(input.overflow !== undefined ? { overflow: JSON.stringify(input.overflow) } : {}),
  };
}

export async function createQueue(db: Trx, input: QueueInput & { name: string }, actor: Actor): Promise<QueueRow> {
  const id = await uniqueName('queue', () =>
    db.transaction().execute(async (trx) => {
      await checkQueue(trx, input);
      const row = await trx.insertInto('queues').values({ name: input.name, ...queueColumns(input) }).returning('id').executeTakeFirstOrThrow();
      await audit(trx, { actor, action: 'queue.created', target: { type: 'queue', id: row.id }, details: { ...input } });
      return row.id;
    }),
  );
  return getQueue(db, id);
}

export async function updateQueue(db: Trx, id: string, input: QueueInput, actor: Actor): Promise<QueueRow> {
  await uniqueName('queue', () =>
    db.transaction().execute(async (trx) => {
      await checkQueue(trx, input, id);
      const row = await trx.updateTable('queues').set({ ...queueColumns(input), updated_at: sql`now()` }).where('id', '=', id).returning('id').executeTakeFirst();
      if (!row) throw notFound('queue');
      await audit(trx, { actor, action: 'queue.updated', target: { type: 'queue', id }, details: { ...input } });
    }),
  );
  return getQueue(db, id);
}

export async function deleteQueue(db: Trx, id: string, actor: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const waiting = await trx.selectFrom('conversations').select('id').where('queue_id', '=', id).where('state', 'not in', ['closed']).limit(1).executeTakeFirst();
    if (waiting) throw conflict('the queue still has conversations that are not closed: transfer them first');
    const row = await trx.deleteFrom('queues').where('id', '=', id).returning('name').executeTakeFirst();
    if (!row) throw notFound('queue');
    await audit(trx, { actor, action: 'queue.deleted', target: { type: 'queue', id }, details: { name: row.name } });
  });
}

/** Exactly these members, in this order (round robin walks it). */
export async function setQueueMembers(db: Trx, id: string, userIds: number[], actor: Actor): Promise<QueueRow> {
  await db.transaction().execute(async (trx) => {
    const queue = await trx.selectFrom('queues').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
    if (!queue) throw notFound('queue');
    for (const userId of userIds) await agentRow(trx, userId);
    await trx.deleteFrom('queue_members').where('queue_id', '=', id).execute();
    if (userIds.length > 0) await trx.insertInto('queue_members').values([...new Set(userIds)].map((user_id, position) => ({ queue_id: id, user_id, position }))).execute();
    await audit(trx, { actor, action: 'queue.members_set', target: { type: 'queue', id }, details: { userIds } });
  });
  return getQueue(db, id);
}

// ---- routing rules

export interface RuleInput {
  name: string;
  enabled?: boolean;
  match?: 'all' | 'any';
  conditions?: RuleCondition[];
  queueId?: string | null;
  skills?: RequiredSkill[];
  priority?: number | null;
}

export async function listRules(db: Trx, workstreamId: string) {
  await getWorkstream(db, workstreamId);
  return db.selectFrom('routing_rules').selectAll().where('workstream_id', '=', workstreamId).orderBy('position').execute();
}

/** Replaces the workstream's rules with this ordered list (order is meaning: first match wins). */
export async function replaceRules(db: Trx, workstreamId: string, rules: RuleInput[], actor: Actor) {
  await db.transaction().execute(async (trx) => {
    const ws = await trx.selectFrom('workstreams').select('id').where('id', '=', workstreamId).forUpdate().executeTakeFirst();
    if (!ws) throw notFound('workstream');
    for (const [i, rule] of rules.entries()) {
      for (const [j, condition] of (rule.conditions ?? []).entries()) {
        const problem = conditionProblem(condition);
        if (problem) throw invalid(`rules.${i}.conditions.${j}`, problem);
      }
      if (rule.queueId) await mustQueue(trx, rule.queueId, `rules.${i}.queueId`);
    }
    await trx.deleteFrom('routing_rules').where('workstream_id', '=', workstreamId).execute();
    if (rules.length > 0) {
      await trx
        .insertInto('routing_rules')
        .values(rules.map((rule, position) => ({
          workstream_id: workstreamId, position, name: rule.name, enabled: rule.enabled ?? true, match: rule.match ?? 'all',
          conditions: JSON.stringify(rule.conditions ?? []), queue_id: rule.queueId ?? null,
          skills: JSON.stringify((rule.skills ?? []).map((s) => ({ ...s, skill: s.skill.toLowerCase() }))), priority: rule.priority ?? null,
        })))
        .execute();
    }
    await audit(trx, { actor, action: 'workstream.rules_set', target: { type: 'workstream', id: workstreamId }, details: { rules: rules.map((r) => r.name) } });
  });
  return listRules(db, workstreamId);
}

// ---- agents

export interface AgentInput {
  capacity?: number;
  skills?: { skill: string; proficiency: number }[];
  queueIds?: string[];
  presence?: Presence;
}

export async function getAgent(db: Trx, userId: number) {
  const row = await db
    .selectFrom('users as u')
    .leftJoin('agents as a', 'a.user_id', 'u.id')
    .select(['u.id', 'u.name', 'u.email', 'u.role', 'a.presence', 'a.presence_automatic', 'a.presence_changed_at', 'a.capacity', 'a.used_capacity', 'a.missed_offers', 'a.last_assigned_at'])
    .where('u.id', '=', userId)
    .executeTakeFirst();
  if (!row) throw notFound('user');
  const skills = await db.selectFrom('agent_skills').select(['skill', 'proficiency']).where('user_id', '=', userId).orderBy('skill').execute();
  const queues = await db.selectFrom('queue_members').select('queue_id').where('user_id', '=', userId).execute();
  return {
    userId: row.id, name: row.name, email: row.email, role: row.role,
    presence: row.presence ?? 'offline', presenceAutomatic: row.presence_automatic ?? false, presenceChangedAt: row.presence_changed_at,
    capacity: row.capacity ?? 100, usedCapacity: row.used_capacity ?? 0, missedOffers: row.missed_offers ?? 0, lastAssignedAt: row.last_assigned_at,
    skills, queueIds: queues.map((q) => q.queue_id),
  };
}

export async function listAgents(db: Trx) {
  const rows = await db.selectFrom('agents').select('user_id').orderBy('user_id').execute();
  return Promise.all(rows.map((r) => getAgent(db, r.user_id)));
}

export async function updateAgent(db: Trx, notifier: Notifier, userId: number, input: AgentInput, actor: Actor) {
  await db.transaction().execute(async (trx) => {
    await agentRow(trx, userId);
    if (input.capacity !== undefined) await trx.updateTable('agents').set({ capacity: input.capacity, updated_at: sql`now()` }).where('user_id', '=', userId).execute();
    if (input.skills !== undefined) {
      await trx.deleteFrom('agent_skills').where('user_id', '=', userId).execute();
      const unique = new Map(input.skills.map((s) => [s.skill.toLowerCase(), s.proficiency]));
      if (unique.size > 0) await trx.insertInto('agent_skills').values([...unique].map(([skill, proficiency]) => ({ user_id: userId, skill, proficiency }))).execute();
    }
    if (input.queueIds !== undefined) {
      for (const [i, queueId] of input.queueIds.entries()) await mustQueue(trx, queueId, `queueIds.${i}`);
      await trx.deleteFrom('queue_members').where('user_id', '=', userId).where('queue_id', 'not in', input.queueIds.length > 0 ? input.queueIds : ['00000000-0000-0000-0000-000000000000']).execute();
      for (const queueId of input.queueIds) {
        const position = await trx.selectFrom('queue_members').select(sql<number>`coalesce(max(position) + 1, 0)::int`.as('next')).where('queue_id', '=', queueId).executeTakeFirstOrThrow();
        await trx.insertInto('queue_members').values({ queue_id: queueId, user_id: userId, position: position.next }).onConflict((oc) => oc.columns(['queue_id', 'user_id']).doNothing()).execute();
      }
    }
    // more room or new queues may serve someone waiting now
    if (input.capacity !== undefined || input.queueIds !== undefined) await dispatchAgentQueues(trx, userId);
    await audit(trx, { actor, action: 'agent.updated', target: { type: 'user', id: userId }, details: { ...input } });
  });
  if (input.presence !== undefined) await setPresence(db, notifier, userId, input.presence, actor);
  return getAgent(db, userId);
}
