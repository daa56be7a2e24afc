import { sql, type Kysely } from 'kysely';
import { GroupCommitter } from '../../db/group-commit.ts';
import type { DB } from '../../db/schema.ts';
import type { InboundEvent } from '../../providers/types.ts';

/**
 * Durable intake: verified webhook events are written to the inbox, each with its `inbound`
 * processing job, before the provider is answered. Concurrent webhooks share one commit.
 * Duplicates (same channel and event key) are absorbed by the unique key: no row, no job.
 */
export const INBOUND_QUEUE = 'inbound';

export interface InboxItem {
  channelId: string;
  event: InboundEvent;
}

function customerOf(event: InboundEvent): string | undefined {
  return 'customerId' in event ? event.customerId : undefined;
}

/** PostgreSQL refuses NUL in text and jsonb: a provider payload carrying one must not fail the batch. */
function storable(value: unknown): string {
  // in JSON text a NUL is `\u0000` whose backslash is not itself escaped (an even number of backslashes before it)
  return JSON.stringify(value).replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1');
}

export function createInbox(db: Kysely<DB>, concurrency = 1) {
  const committer = new GroupCommitter<InboxItem>({
    maxBatch: 500,
    concurrency,
    async write(items) {
      // provider-timestamp order within a batch, so a customer's jobs are queued in event order;
      // jobs of one customer on one channel share a group key and run one at a time, in order
      const rows = items
        .map(({ channelId, event }) => ({
          channel_id: channelId,
          event_key: event.key,
          event_type: event.type,
          customer_ref: customerOf(event) ?? null,
          occurred_at: new Date(event.timestamp || Date.now()).toISOString(),
          event,
        }))
        .sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));
      await sql`
        WITH input AS (
          SELECT * FROM jsonb_to_recordset(${storable(rows)}::jsonb)
            AS r(channel_id uuid, event_key text, event_type text, customer_ref text, occurred_at timestamptz, event jsonb)
        ), stored AS (
          INSERT INTO inbox_events (channel_id, event_key, event_type, customer_ref, occurred_at, event)
          SELECT channel_id, event_key, event_type, customer_ref, occurred_at, event FROM input ORDER BY occurred_at
          ON CONFLICT (channel_id, event_key) DO NOTHING
          RETURNING id, channel_id, customer_ref, occurred_at
        )
        INSERT INTO jobs (queue, payload, group_key)
        SELECT ${INBOUND_QUEUE}, jsonb_build_object('inboxId', id),
          CASE WHEN customer_ref IS NULL THEN NULL ELSE 'inbound:' || channel_id || ':' || customer_ref END
        FROM stored ORDER BY occurred_at, id`.execute(db);
    },
  });
  return {
    /** Resolves once every event is durable (or was already stored). */
    accept(channelId: string, events: InboundEvent[]): Promise<void> {
      return committer.submit(events.map((event) => ({ channelId, event })));
    },
  };
}

export type Inbox = ReturnType<typeof createInbox>;
