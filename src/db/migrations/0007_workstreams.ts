import { sql, type Kysely } from 'kysely';

/**
 * Workstreams: how the conversations of a group of channel instances are handled — language,
 * the capacity each conversation takes, who may receive offers, inactivity auto-close, operating
 * hours, user features (attachments, the Facebook human-agent tag) and message templates. Each
 * channel instance belongs to at most one workstream; the attachment policy moves here from the
 * channel instance.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE workstreams (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL CHECK (name <> ''),
      language text,
      mode text NOT NULL DEFAULT 'push' CHECK (mode IN ('push')),
      capacity_per_conversation integer NOT NULL DEFAULT 25 CHECK (capacity_per_conversation BETWEEN 0 AND 10000),
      allowed_presences jsonb NOT NULL DEFAULT '["available"]',
      auto_close_hours integer NOT NULL DEFAULT 24 CHECK (auto_close_hours > 0),
      -- conversations where the agent waits for the customer stay open past auto-close
      keep_open_waiting boolean NOT NULL DEFAULT true,
      -- weekly calendar {"mon": [["09:00","17:00"]], ...}; null means always open
      operating_hours jsonb,
      time_zone text NOT NULL DEFAULT 'UTC',
      holidays jsonb NOT NULL DEFAULT '[]',
      outside_hours_action jsonb NOT NULL DEFAULT '{"type":"keep-waiting"}',
      customer_attachments boolean NOT NULL DEFAULT true,
      agent_attachments boolean NOT NULL DEFAULT true,
      facebook_human_agent_tag boolean NOT NULL DEFAULT false,
      -- conversations opened before the tag was turned on do not get its 7-day window
      facebook_tag_enabled_at timestamptz,
      offer_timeout_seconds integer NOT NULL DEFAULT 60 CHECK (offer_timeout_seconds BETWEEN 1 AND 3600),
      missed_offers_before_away integer NOT NULL DEFAULT 3 CHECK (missed_offers_before_away >= 1),
      prefer_previous_agent boolean NOT NULL DEFAULT true,
      reopen_within_hours integer NOT NULL DEFAULT 72 CHECK (reopen_within_hours >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX workstreams_name ON workstreams (lower(name));

    CREATE TABLE workstream_templates (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      workstream_id uuid NOT NULL REFERENCES workstreams (id) ON DELETE CASCADE,
      name text NOT NULL CHECK (name <> ''),
      language text NOT NULL,
      -- text with numbered variables: "Hello {{1}}, your order {{2}} has shipped"
      body text NOT NULL,
      -- the provider's id for an approved template, e.g. a Twilio ContentSid
      provider_template_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX workstream_templates_name ON workstream_templates (workstream_id, name, language);

    ALTER TABLE channel_instances ADD COLUMN workstream_id uuid REFERENCES workstreams (id) ON DELETE SET NULL;
    CREATE INDEX channel_instances_workstream ON channel_instances (workstream_id);
    ALTER TABLE channel_instances DROP COLUMN customer_attachments;
    ALTER TABLE channel_instances DROP COLUMN agent_attachments;
  `.execute(db);
}
