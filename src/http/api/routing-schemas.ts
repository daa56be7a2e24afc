import Type from 'typebox';
import type { QueueRow, Template, WorkstreamRow } from '../../core/routing/settings.ts';
import { METHOD_NAMES } from '../../core/routing/methods.ts';

/** The shapes of workstreams, queues, routing rules, agents and offers in the REST API. */
const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
export const Uuid = Type.String({ format: 'uuid' });
export const UuidParams = Type.Object({ id: Uuid });
export const Presence = Type.Enum(['available', 'busy', 'do-not-disturb', 'away', 'offline']);
const Interval = Type.Tuple([Type.String({ pattern: '^\\d{2}:\\d{2}$' }), Type.String({ pattern: '^\\d{2}:\\d{2}$' })]);
const Day = Type.Array(Interval);
export const WeeklyHours = Type.Object(
  { mon: Type.Optional(Day), tue: Type.Optional(Day), wed: Type.Optional(Day), thu: Type.Optional(Day), fri: Type.Optional(Day), sat: Type.Optional(Day), sun: Type.Optional(Day) },
  { additionalProperties: false, description: 'opening intervals ["HH:MM", "HH:MM"] per day in the time zone' },
);
export const OverflowAction = Type.Union([
  Type.Object({ type: Type.Literal('keep-waiting') }),
  Type.Object({ type: Type.Literal('move-to-queue'), queueId: Uuid }),
  Type.Object({ type: Type.Literal('send-message'), text: Type.String({ minLength: 1, maxLength: 2000, description: 'stored as a pending outbound message for delivery' }) }),
]);
export const OverflowRule = Type.Object({
  when: Type.Enum(['full', 'waiting', 'outside-hours']),
  afterMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 10080 })),
  action: OverflowAction,
});
export const RequiredSkill = Type.Object({ skill: Type.String({ minLength: 1, maxLength: 100 }), proficiency: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })) });
export const AgentSkill = Type.Object({ skill: Type.String({ minLength: 1, maxLength: 100 }), proficiency: Type.Integer({ minimum: 1, maximum: 10 }) });

const workstreamFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  language: Nullable(Type.String({ maxLength: 20 })),
  capacityPerConversation: Type.Integer({ minimum: 0, maximum: 10000, description: 'capacity units each conversation takes from its agent' }),
  allowedPresences: Type.Array(Presence, { description: 'presences that may receive offers; offline never does' }),
  autoCloseHours: Type.Integer({ minimum: 1, maximum: 8760 }),
  keepOpenWaiting: Type.Boolean({ description: 'conversations waiting for the customer are not auto-closed' }),
  operatingHours: Nullable(WeeklyHours),
  timeZone: Type.String({ maxLength: 100 }),
  holidays: Type.Array(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
  outsideHoursAction: OverflowAction,
  customerAttachments: Type.Boolean(),
  agentAttachments: Type.Boolean(),
  facebookHumanAgentTag: Type.Boolean(),
  offerTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 3600 }),
  missedOffersBeforeAway: Type.Integer({ minimum: 1, maximum: 100 }),
  preferPreviousAgent: Type.Boolean(),
  reopenWithinHours: Type.Integer({ minimum: 0, maximum: 8760 }),
  defaultQueueId: Nullable(Uuid),
  skillMatching: Type.Enum(['exact', 'closest']),
};
export const WorkstreamInput = Type.Partial(Type.Object(workstreamFields));
export const NewWorkstream = Type.Intersect([Type.Object({ name: workstreamFields.name }), WorkstreamInput]);
export const WorkstreamSchema = Type.Object({
  id: Uuid, ...workstreamFields, facebookTagEnabledAt: Nullable(DateTime), channelIds: Type.Array(Uuid), createdAt: DateTime, updatedAt: DateTime,
});

export function workstreamView(w: WorkstreamRow) {
  return {
    id: w.id, name: w.name, language: w.language, capacityPerConversation: w.capacity_per_conversation, allowedPresences: w.allowed_presences,
    autoCloseHours: w.auto_close_hours, keepOpenWaiting: w.keep_open_waiting, operatingHours: w.operating_hours, timeZone: w.time_zone,
    holidays: w.holidays, outsideHoursAction: w.outside_hours_action, customerAttachments: w.customer_attachments, agentAttachments: w.agent_attachments,
    facebookHumanAgentTag: w.facebook_human_agent_tag, facebookTagEnabledAt: w.facebook_tag_enabled_at?.toISOString() ?? null,
    offerTimeoutSeconds: w.offer_timeout_seconds, missedOffersBeforeAway: w.missed_offers_before_away, preferPreviousAgent: w.prefer_previous_agent,
    reopenWithinHours: w.reopen_within_hours, defaultQueueId: w.default_queue_id, skillMatching: w.skill_matching, channelIds: w.channel_ids,
    createdAt: w.created_at.toISOString(), updatedAt: w.updated_at.toISOString(),
  };
}

const templateFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  language: Type.String({ minLength: 1, maxLength: 20 }),
  body: Type.String({ minLength: 1, maxLength: 4096, description: 'text with numbered variables {{1}}, {{2}}, ...' }),
  providerTemplateId: Nullable(Type.String({ maxLength: 200, description: "the provider's id of the approved template, e.g. a Twilio ContentSid" })),
};
export const NewTemplate = Type.Object({ ...templateFields, providerTemplateId: Type.Optional(templateFields.providerTemplateId) });
export const TemplateInput = Type.Partial(Type.Object(templateFields));
export const TemplateSchema = Type.Object({ id: Uuid, workstreamId: Uuid, ...templateFields, variables: Type.Array(Type.Integer()), createdAt: DateTime, updatedAt: DateTime });

export function templateView(t: Template, variables: number[]) {
  return { id: t.id, workstreamId: t.workstream_id, name: t.name, language: t.language, body: t.body, providerTemplateId: t.provider_template_id, variables, createdAt: t.created_at.toISOString(), updatedAt: t.updated_at.toISOString() };
}

const queueFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  priority: Type.Integer({ minimum: -1000, maximum: 1000, description: 'larger is served first' }),
  assignmentMethod: Type.Enum(METHOD_NAMES),
  maxSize: Nullable(Type.Integer({ minimum: 0 })),
  overflow: Type.Array(OverflowRule),
};
export const QueueInput = Type.Partial(Type.Object(queueFields));
export const NewQueue = Type.Intersect([Type.Object({ name: queueFields.name }), QueueInput]);
export const QueueSchema = Type.Object({ id: Uuid, ...queueFields, memberIds: Type.Array(Type.Integer(), { description: 'user ids, in round-robin order' }), createdAt: DateTime, updatedAt: DateTime });

export function queueView(q: QueueRow) {
  return { id: q.id, name: q.name, priority: q.priority, assignmentMethod: q.assignment_method, maxSize: q.max_size, overflow: q.overflow, memberIds: q.member_ids, createdAt: q.created_at.toISOString(), updatedAt: q.updated_at.toISOString() };
}

export const Condition = Type.Object({
  field: Type.String({ pattern: '^(channel|channelInstance|language|contactLinked|firstMessage|customer\\..+)$', description: 'channel, channelInstance, language, contactLinked, firstMessage or customer.<field>' }),
  op: Type.Enum(['equals', 'not-equals', 'in', 'contains', 'matches', 'is-set', 'is-not-set']),
  value: Type.Optional(Type.Union([Type.String(), Type.Boolean(), Type.Array(Type.String())])),
});
const ruleFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  enabled: Type.Boolean(),
  match: Type.Enum(['all', 'any']),
  conditions: Type.Array(Condition),
  queueId: Nullable(Uuid),
  skills: Type.Array(RequiredSkill),
  priority: Nullable(Type.Integer({ minimum: -1000, maximum: 1000 })),
};
export const RuleInput = Type.Object({ name: ruleFields.name, enabled: Type.Optional(ruleFields.enabled), match: Type.Optional(ruleFields.match), conditions: Type.Optional(ruleFields.conditions), queueId: Type.Optional(ruleFields.queueId), skills: Type.Optional(ruleFields.skills), priority: Type.Optional(ruleFields.priority) });
export const RuleSchema = Type.Object({ id: Uuid, position: Type.Integer(), ...ruleFields });

export const AgentSchema = Type.Object({
  userId: Type.Integer(), name: Type.String(), email: Type.String(), role: Type.String(),
  presence: Presence, presenceAutomatic: Type.Boolean({ description: 'busy because capacity is full; back to available when it frees' }),
  presenceChangedAt: Nullable(DateTime), capacity: Type.Integer(), usedCapacity: Type.Integer(), missedOffers: Type.Integer(), lastAssignedAt: Nullable(DateTime),
  skills: Type.Array(AgentSkill), queueIds: Type.Array(Uuid),
});
export const AgentInput = Type.Object({
  capacity: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })),
  skills: Type.Optional(Type.Array(AgentSkill)),
  queueIds: Type.Optional(Type.Array(Uuid)),
  presence: Type.Optional(Presence),
});

export function agentView<T extends { presenceChangedAt: Date | null; lastAssignedAt: Date | null }>(a: T) {
  return { ...a, presenceChangedAt: a.presenceChangedAt?.toISOString() ?? null, lastAssignedAt: a.lastAssignedAt?.toISOString() ?? null };
}
