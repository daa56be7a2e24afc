import type { ColumnType, Generated } from 'kysely';

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
  manual_steps: Json<string[]>;
  checked_at: Date | null;
  last_webhook_at: Date | null;
  last_signature_failure_at: Date | null;
  last_signature_failure_reason: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  deleted_at: Date | null;
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

export interface DB {
  jobs: JobsTable;
  messaging_accounts: MessagingAccountsTable;
  channel_instances: ChannelInstancesTable;
  webhook_stats: WebhookStatsTable;
  inbox_events: InboxEventsTable;
}
