import { sql, type Kysely } from 'kysely';

/**
 * The inbox: every verified webhook event, stored before the provider gets its 2xx. The unique
 * key per provider event makes duplicates and redeliveries no-ops; processing happens after, in
 * an `inbound` job queued in the same statement.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE inbox_events (
      id bigserial PRIMARY KEY,
      channel_id uuid NOT NULL REFERENCES channel_instances (id),
      event_key text NOT NULL,
      event_type text NOT NULL,
      customer_ref text,
      occurred_at timestamptz NOT NULL,
      event jsonb NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      processed_at timestamptz
    );
    CREATE UNIQUE INDEX inbox_events_key ON inbox_events (channel_id, event_key);
    CREATE INDEX inbox_events_received ON inbox_events (channel_id, received_at);
  `.execute(db);
}
