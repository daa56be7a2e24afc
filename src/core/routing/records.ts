import { sql, type Kysely } from 'kysely';
import { queueDelivery } from '../conversations/reply.ts';
import type { Notifier } from '../../db/notifier.ts';
import type { DB } from '../../db/schema.ts';
import type { Actor } from '../audit/log.ts';
import { CONVERSATION_EVENTS } from '../conversations/ingest.ts';

/**
 * What distribution writes besides its state: the conversation's history of transitions (for
 * reports), the realtime announcements of offers, and automated messages waiting for delivery.
 */
export const OFFER_EVENTS = 'parley_offers';
export const ROUTING_ACTOR: Actor = { userId: null, label: 'routing' };

export interface OfferChange {
  offerId: string;
  conversationId: string;
  userId: number;
  change: 'offered' | 'accepted' | 'rejected' | 'expired' | 'withdrawn';
  expiresAt?: string;
}

export interface TransitionRecord {
  conversationId: string;
  kind: string;
  from?: string | null;
  to?: string | null;
  actor: Actor;
  agentUserId?: number | null;
  queueId?: string | null;
  reason?: string;
  details?: Record<string, unknown>;
}

export async function recordTransition(trx: Kysely<DB>, record: TransitionRecord): Promise<void> {
  await trx
    .insertInto('conversation_events')
    .values({
      conversation_id: record.conversationId,
      kind: record.kind,
      from_state: record.from ?? null,
      to_state: record.to ?? null,
      actor_user_id: record.actor.userId,
      actor_label: record.actor.label,
      agent_user_id: record.agentUserId ?? null,
      queue_id: record.queueId ?? null,
      reason: record.reason ?? null,
      details: JSON.stringify(record.details ?? {}),
    })
    .execute();
}

/** Sent with the transaction: listeners hear of it once it commits. */
export async function announceOffer(trx: Kysely<DB>, notifier: Notifier, change: OfferChange): Promise<void> {
  await notifier.notify(trx, OFFER_EVENTS, JSON.stringify(change));
}

export async function announceConversation(trx: Kysely<DB>, notifier: Notifier, conversationId: string, messageId?: string): Promise<void> {
  await notifier.notify(trx, CONVERSATION_EVENTS, JSON.stringify({ conversationId, messageId, change: messageId ? 'message' : 'status' }));
}

/**
 * An automated message to the customer (overflow, outside operating hours): an outbound system
 * message stored `pending` with its delivery queued in the same transaction. Delivery applies the
 * session window as for any automated sender (no Facebook tag; WhatsApp only inside the window),
 * and a refusal shows on the message.
 */
export async function recordAutomatedMessage(trx: Kysely<DB>, notifier: Notifier, conversationId: string, text: string, reason: string): Promise<void> {
  const conversation = await trx.selectFrom('conversations').select('channel_id').where('id', '=', conversationId).executeTakeFirstOrThrow();
  const message = await trx
    .insertInto('messages')
    .values({
      conversation_id: conversationId,
      channel_id: conversation.channel_id,
      direction: 'outbound',
      author: 'system',
      kind: 'text',
      text,
      content: JSON.stringify({ automated: reason }),
      status: 'pending',
      occurred_at: sql<Date>`now()`,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await queueDelivery(trx, conversationId, message.id);
  await announceConversation(trx, notifier, conversationId, message.id);
}
