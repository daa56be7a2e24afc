import { sql, type Kysely } from 'kysely';

/**
 * The provider's own error code next to a channel's status reason (e.g. Graph 190, Twilio 20003),
 * so an admin and a program can tell "token expired" from "permission missing" without parsing
 * text; and when the status last changed, so a flapping channel is visible.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE channel_instances ADD COLUMN status_code text;
    ALTER TABLE channel_instances ADD COLUMN status_changed_at timestamptz;
    -- the periodic re-check walks live channels only
    CREATE INDEX channel_instances_live_checked ON channel_instances (checked_at) WHERE deleted_at IS NULL;
  `.execute(db);
}
