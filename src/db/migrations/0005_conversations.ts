import { sql, type Kysely } from 'kysely';

/**
 * Customers and their conversations: contacts, social profiles (one per provider user on one
 * channel instance), conversations, messages with their provider ids and delivery status, and
 * attachments fetched into Parley's storage.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE contacts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      email text,
      phone text,
      company text,
      fields jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE social_profiles (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      channel_id uuid NOT NULL REFERENCES channel_instances (id),
      provider text NOT NULL,
      provider_user_id text NOT NULL,
      display_name text,
      avatar_url text,
      locale text,
      contact_id uuid REFERENCES contacts (id),
      profile_checked_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (channel_id, provider_user_id)
    );
    CREATE INDEX social_profiles_contact ON social_profiles (contact_id);

    CREATE TABLE conversations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      channel_id uuid NOT NULL REFERENCES channel_instances (id),
      social_profile_id uuid NOT NULL REFERENCES social_profiles (id),
      contact_id uuid REFERENCES contacts (id),
      state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'offered', 'active', 'waiting', 'wrap-up', 'closed')),
      opened_at timestamptz NOT NULL DEFAULT now(),
      closed_at timestamptz,
      last_customer_message_at timestamptz,
      last_message_at timestamptz,
      reply_token text,
      reply_token_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    -- at most one conversation not closed per social profile: it continues from any device
    CREATE UNIQUE INDEX conversations_one_open ON conversations (social_profile_id) WHERE state <> 'closed';
    CREATE INDEX conversations_contact ON conversations (contact_id);

    CREATE TABLE messages (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      conversation_id uuid NOT NULL REFERENCES conversations (id),
      channel_id uuid NOT NULL REFERENCES channel_instances (id),
      direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
      author text NOT NULL CHECK (author IN ('customer', 'agent', 'bot', 'system', 'page')),
      author_user_id uuid,
      kind text NOT NULL,
      text text,
      content jsonb NOT NULL DEFAULT '{}',
      raw jsonb,
      provider_message_id text,
      status text NOT NULL CHECK (status IN ('received', 'pending', 'sent', 'delivered', 'read', 'failed')),
      error_code text,
      error_message text,
      occurred_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX messages_provider_id ON messages (channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL;
    CREATE INDEX messages_conversation ON messages (conversation_id, occurred_at, created_at);

    CREATE TABLE attachments (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      message_id uuid NOT NULL REFERENCES messages (id),
      kind text NOT NULL,
      content_type text,
      file_name text,
      size bigint,
      storage_key text,
      state text NOT NULL CHECK (state IN ('pending', 'stored', 'failed', 'blocked')),
      source jsonb NOT NULL DEFAULT '{}',
      error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX attachments_message ON attachments (message_id);
  `.execute(db);
}
