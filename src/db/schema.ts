import type { ColumnType, Generated } from 'kysely';
import type { Role } from '../core/users/roles.ts';

/**
 * Row types of every table, as Kysely sees them. Each migration that adds or changes a table
 * updates its interface here.
 */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T = unknown> = ColumnType<T, string | undefined, string>;

export interface JobsTable {
  id: Generated<number>;
  queue: string;
  payload: Json;
  state: ColumnType<'ready' | 'running' | 'dead', 'ready' | undefined, 'ready' | 'running' | 'dead'>;
  run_at: Timestamp;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  group_key: string | null;
  singleton_key: string | null;
  locked_by: string | null;
  locked_until: Date | null;
  last_error: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface UsersTable {
  id: Generated<number>;
  email: string;
  name: string;
  role: Role;
  password_hash: string;
  must_change_password: Generated<boolean>;
  disabled_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface SessionsTable {
  id_hash: string;
  user_id: number;
  csrf_token: string;
  ip: string | null;
  user_agent: string | null;
  created_at: Generated<Date>;
  last_seen_at: Generated<Date>;
}

export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  prefix: string;
  created_at: Generated<Date>;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Generated<Date>;
  actor_user_id: number | null;
  actor_label: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: Json<Record<string, unknown>>;
  ip: string | null;
  user_agent: string | null;
}

export interface SignInFailuresTable {
  id: Generated<number>;
  email: string;
  ip: string;
  at: Generated<Date>;
}

export type Provider = 'facebook' | 'twilio-whatsapp' | 'line';

export interface MessagingAccountsTable {
  id: Generated<string>;
  provider: Provider;
  name: string;
  external_id: string;
  secret_sealed: string;
  secret_hint: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  deleted_at: Date | null;
}

export type ChannelStatus = 'pending' | 'running' | 'needs_attention';

export interface ChannelInstancesTable {
  id: Generated<string>;
  account_id: string;
  provider: Provider;
  name: string;
  external_id: string;
  token_sealed: string | null;
  token_hint: string | null;
  webhook_key: string;
  verify_token: string | null;
  status: Generated<ChannelStatus>;
  status_reason: string | null;
  status_code: string | null;
  status_changed_at: Date | null;
  manual_steps: Json<string[]>;
  workstream_id: string | null;
  checked_at: Date | null;
  last_webhook_at: Date | null;
  last_signature_failure_at: Date | null;
  last_signature_failure_reason: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  deleted_at: Date | null;
}

export type Presence = 'available' | 'busy' | 'do-not-disturb' | 'away' | 'offline';

/** Weekly calendar: day → opening intervals ["09:00", "17:30"] in the workstream's time zone. */
export type WeeklyHours = Partial<Record<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun', Array<[string, string]>>>;

/** What happens to a conversation that needs an agent outside operating hours or on overflow. */
export type OverflowAction =
  | { type: 'keep-waiting' }
  | { type: 'move-to-queue'; queueId: string }
  | { type: 'send-message'; text: string };

export interface WorkstreamsTable {
  id: Generated<string>;
  name: string;
  language: string | null;
  mode: Generated<'push'>;
  capacity_per_conversation: Generated<number>;
  allowed_presences: ColumnType<Presence[], string | undefined, string>;
  auto_close_hours: Generated<number>;
  keep_open_waiting: Generated<boolean>;
  operating_hours: ColumnType<WeeklyHours | null, string | null | undefined, string | null>;
  time_zone: Generated<string>;
  holidays: ColumnType<string[], string | undefined, string>;
  outside_hours_action: ColumnType<OverflowAction, string | undefined, string>;
  customer_attachments: Generated<boolean>;
  agent_attachments: Generated<boolean>;
  facebook_human_agent_tag: Generated<boolean>;
  facebook_tag_enabled_at: Date | null;
  offer_timeout_seconds: Generated<number>;
  missed_offers_before_away: Generated<number>;
  prefer_previous_agent: Generated<boolean>;
  reopen_within_hours: Generated<number>;
  default_queue_id: string | null;
  skill_matching: Generated<'exact' | 'closest'>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface WorkstreamTemplatesTable {
  id: Generated<string>;
  workstream_id: string;
  name: string;
  language: string;
  body: string;
  provider_template_id: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface WebhookStatsTable {
  channel_id: string;
  minute: Date;
  accepted: Generated<number>;
  rejected: Generated<number>;
}

export interface InboxEventsTable {
  id: Generated<number>;
  channel_id: string;
  event_key: string;
  event_type: string;
  customer_ref: string | null;
  occurred_at: Date;
  event: Json;
  received_at: Generated<Date>;
  processed_at: Date | null;
}

export interface ContactsTable {
  id: Generated<string>;
  name: string;
  email: string | null;
  phone: string | null;
  company: string | null;
  fields: Json<Record<string, unknown>>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface SocialProfilesTable {
  id: Generated<string>;
  channel_id: string;
  provider: Provider;
  provider_user_id: string;
  display_name: string | null;
  avatar_url: string | null;
  locale: string | null;
  contact_id: string | null;
  profile_checked_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type ConversationState = 'open' | 'offered' | 'active' | 'waiting' | 'wrap-up' | 'closed';

export interface ConversationsTable {
  id: Generated<string>;
  channel_id: string;
  social_profile_id: string;
  contact_id: string | null;
  state: Generated<ConversationState>;
  opened_at: Generated<Date>;
  closed_at: Date | null;
  last_customer_message_at: Date | null;
  last_message_at: Date | null;
  reply_token: string | null;
  reply_token_at: Date | null;
  workstream_id: string | null;
  queue_id: string | null;
  priority: Generated<number>;
  required_skills: ColumnType<RequiredSkill[], string | undefined, string>;
  assigned_user_id: number | null;
  held_capacity: Generated<number>;
  waiting_since: Date | null;
  queued_at: Date | null;
  classified_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** A skill a conversation needs, with the least proficiency (1–10) that counts as a match. */
export interface RequiredSkill {
  skill: string;
  proficiency?: number;
}

export type AssignmentMethodName = 'highest-capacity' | 'round-robin' | 'least-active';

export interface OverflowRule {
  when: 'full' | 'waiting' | 'outside-hours';
  /** For `waiting`: minutes in the queue before the action applies. */
  afterMinutes?: number;
  action: OverflowAction;
}

export interface QueuesTable {
  id: Generated<string>;
  name: string;
  priority: Generated<number>;
  assignment_method: ColumnType<AssignmentMethodName, AssignmentMethodName | undefined, AssignmentMethodName>;
  max_size: number | null;
  overflow: ColumnType<OverflowRule[], string | undefined, string>;
  last_assigned_user_id: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AgentsTable {
  user_id: number;
  presence: ColumnType<Presence, Presence | undefined, Presence>;
  presence_automatic: Generated<boolean>;
  presence_changed_at: Generated<Date>;
  capacity: Generated<number>;
  used_capacity: Generated<number>;
  missed_offers: Generated<number>;
  last_assigned_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AgentSkillsTable {
  user_id: number;
  skill: string;
  proficiency: number;
}

export interface QueueMembersTable {
  queue_id: string;
  user_id: number;
  position: number;
  created_at: Generated<Date>;
}

export type ConditionField = 'channel' | 'channelInstance' | 'language' | 'contactLinked' | 'firstMessage' | `customer.${string}`;
export type ConditionOp = 'equals' | 'not-equals' | 'in' | 'contains' | 'matches' | 'is-set' | 'is-not-set';

export interface RuleCondition {
  field: ConditionField;
  op: ConditionOp;
  value?: string | boolean | string[];
}

export interface RoutingRulesTable {
  id: Generated<string>;
  workstream_id: string;
  position: number;
  name: string;
  enabled: Generated<boolean>;
  match: ColumnType<'all' | 'any', 'all' | 'any' | undefined, 'all' | 'any'>;
  conditions: ColumnType<RuleCondition[], string | undefined, string>;
  queue_id: string | null;
  skills: ColumnType<RequiredSkill[], string | undefined, string>;
  priority: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type OfferState = 'pending' | 'accepted' | 'rejected' | 'expired' | 'withdrawn';

export interface OffersTable {
  id: Generated<string>;
  conversation_id: string;
  user_id: number;
  queue_id: string | null;
  state: ColumnType<OfferState, OfferState | undefined, OfferState>;
  note: string | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  answered_at: Date | null;
}

export interface ConversationEventsTable {
  id: Generated<number>;
  conversation_id: string;
  at: Generated<Date>;
  kind: string;
  from_state: string | null;
  to_state: string | null;
  actor_user_id: number | null;
  actor_label: string;
  agent_user_id: number | null;
  queue_id: string | null;
  reason: string | null;
  details: Json<Record<string, unknown>>;
}

export type MessageStatus = 'received' | 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

export interface MessagesTable {
  id: Generated<string>;
  conversation_id: string;
  channel_id: string;
  direction: 'inbound' | 'outbound';
  author: 'customer' | 'agent' | 'bot' | 'system' | 'page';
  author_user_id: number | null;
  kind: string;
  text: string | null;
  content: Json<Record<string, unknown>>;
  raw: Json | null;
  provider_message_id: string | null;
  status: MessageStatus;
  error_code: string | null;
  error_message: string | null;
  idempotency_key: string | null;
  sent_at: Date | null;
  attempts: Generated<number>;
  occurred_at: Timestamp;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AttachmentsTable {
  id: Generated<string>;
  message_id: string;
  kind: string;
  content_type: string | null;
  file_name: string | null;
  size: number | null;
  storage_key: string | null;
  state: 'pending' | 'stored' | 'failed' | 'blocked';
  source: Json<Record<string, unknown>>;
  error: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface UploadsTable {
  id: Generated<string>;
  conversation_id: string;
  uploaded_by: number;
  storage_key: string;
  content_type: string;
  file_name: string | null;
  size: number;
  created_at: Generated<Date>;
}

export interface SendBucketsTable {
  sender: string;
  tokens: number;
  refilled_at: Date;
}

export interface DB {
  jobs: JobsTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
  sign_in_failures: SignInFailuresTable;
  contacts: ContactsTable;
  social_profiles: SocialProfilesTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  attachments: AttachmentsTable;
  messaging_accounts: MessagingAccountsTable;
  channel_instances: ChannelInstancesTable;
  webhook_stats: WebhookStatsTable;
  workstreams: WorkstreamsTable;
  workstream_templates: WorkstreamTemplatesTable;
  queues: QueuesTable;
  agents: AgentsTable;
  agent_skills: AgentSkillsTable;
  queue_members: QueueMembersTable;
  routing_rules: RoutingRulesTable;
  offers: OffersTable;
  conversation_events: ConversationEventsTable;
  inbox_events: InboxEventsTable;
  uploads: UploadsTable;
  send_buckets: SendBucketsTable;
}
