import { sql, type Kysely } from 'kysely';

/**
 * Messaging accounts (a Facebook app, a Twilio account, a LINE channel) and their channel
 * instances (Facebook pages, WhatsApp numbers, LINE accounts), with provisioning status and
 * webhook diagnostics. Secrets are stored sealed (see src/secrets.ts) with a short hint.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE messaging_accounts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      provider text NOT NULL CHECK (provider IN ('facebook', 'twilio-whatsapp', 'line')),
      name text NOT NULL,
      external_id text NOT NULL,
      secret_sealed text NOT NULL,
      secret_hint text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      deleted_at timestamptz
    );

    CREATE TABLE channel_instances (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      account_id uuid NOT NULL REFERENCES messaging_accounts (id),
      provider text NOT NULL CHECK (provider IN ('facebook', 'twilio-whatsapp', 'line')),
      name text NOT NULL,
      external_id text NOT NULL,
      token_sealed text,
      token_hint text,
      webhook_key text NOT NULL UNIQUE,
      verify_token text,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'needs_attention')),
      status_reason text,
      manual_steps jsonb NOT NULL DEFAULT '[]',
      -- attachment policy until workstreams carry it: may customers / agents send files here
      customer_attachments boolean NOT NULL DEFAULT true,
      agent_attachments boolean NOT NULL DEFAULT true,
      checked_at timestamptz,
      last_webhook_at timestamptz,
      last_signature_failure_at timestamptz,
      last_signature_failure_reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      deleted_at timestamptz
    );
    -- one live channel instance per page / number / LINE channel
    CREATE UNIQUE INDEX channel_instances_live ON channel_instances (provider, external_id) WHERE deleted_at IS NULL;
    CREATE INDEX channel_instances_account ON channel_instances (account_id);

    -- accepted / rejected webhooks per channel and minute (aggregated in memory, flushed often)
    CREATE TABLE webhook_stats (
      channel_id uuid NOT NULL REFERENCES channel_instances (id),
      minute timestamptz NOT NULL,
      accepted integer NOT NULL DEFAULT 0,
      rejected integer NOT NULL DEFAULT 0,
      PRIMARY KEY (channel_id, minute)
    );
  `.execute(db);
}
