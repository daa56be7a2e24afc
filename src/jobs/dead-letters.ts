import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * The dead-letter list: jobs that failed all their attempts, with the error and, for inbound
 * events, which channel and provider event they carry, so an admin can fix the cause and
 * replay them.
 */
export interface DeadLetter {
  id: number;
  queue: string;
  attempts: number;
  lastError: string | null;
  failedAt: string;
  createdAt: string;
  payload: unknown;
  inbound: { channelId: string; eventType: string; eventKey: string; receivedAt: string } | null;
}

export async function listDeadLetters(db: Kysely<DB>, filter: { queue?: string; limit: number }): Promise<DeadLetter[]> {
  let query = db
    .selectFrom('jobs as j')
    .leftJoin('inbox_events as i', (join) => join.on(sql<boolean>`j.queue = 'inbound' AND i.id = (j.payload->>'inboxId')::bigint`))
    .select(['j.id', 'j.queue', 'j.attempts', 'j.last_error', 'j.updated_at', 'j.created_at', 'j.payload', 'i.channel_id', 'i.event_type', 'i.event_key', 'i.received_at'])
    .where('j.state', '=', 'dead')
    .orderBy('j.updated_at', 'desc')
    .limit(filter.limit);
  if (filter.queue) query = query.where('j.queue', '=', filter.queue);
  return (await query.execute()).map((r) => ({
    id: r.id,
    queue: r.queue,
    attempts: r.attempts,
    lastError: r.last_error,
    failedAt: r.updated_at.toISOString(),
    createdAt: r.created_at.toISOString(),
    payload: r.payload,
    inbound: r.channel_id ? { channelId: r.channel_id, eventType: r.event_type!, eventKey: r.event_key!, receivedAt: r.received_at!.toISOString() } : null,
  }));
}
