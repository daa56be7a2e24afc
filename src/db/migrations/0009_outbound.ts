import { sql, type Kysely } from 'kysely';

/**
 * Outbound messages: the idempotency key a client may send (one message per key and
 * conversation), when the provider accepted it and how many provider calls it took; the agent
 * who wrote it (users have integer ids); files agents upload before sending; and one token
 * bucket per sender, shared by every worker and instance, that keeps sends under the
 * provider's per-second limit.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE messages ADD COLUMN idempotency_key text;
    ALTER TABLE messages ADD COLUMN sent_at timestamptz;
    ALTER TABLE messages ADD COLUMN attempts integer NOT NULL DEFAULT 0;
    ALTER TABLE messages ALTER COLUMN author_user_id TYPE integer USING NULL;
    ALTER TABLE messages ADD CONSTRAINT messages_author_user FOREIGN KEY (author_user_id) REFERENCES users (id);
    CREATE UNIQUE INDEX messages_idempotency ON messages (conversation_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

    CREATE TABLE uploads (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      conversation_id uuid NOT NULL REFERENCES conversations (id),
      uploaded_by integer NOT NULL REFERENCES users (id),
      storage_key text NOT NULL,
      content_type text NOT NULL,
      file_name text,
      size bigint NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX uploads_conversation ON uploads (conversation_id);

    -- tokens refill at the sender's rate up to one second's worth; a send takes one
    CREATE TABLE send_buckets (
      sender text PRIMARY KEY,
      tokens double precision NOT NULL,
      refilled_at timestamptz NOT NULL
    );
  `.execute(db);
}
