import { sql, type Kysely } from 'kysely';
import type { Notifier } from '../../db/notifier.ts';
import type { ConversationState, DB, Presence } from '../../db/schema.ts';
import { enqueue } from '../../jobs/queue.ts';
import type { Actor } from '../audit/log.ts';
import { announceOffer, recordTransition } from './records.ts';

/**
 * The claiming transaction, shared by every assignment method and by transfers and direct
 * assignments. Order of locks is always conversation first, then agent, so two claims never wait
 * on each other in a circle. Exactly once rests on three things inside one transaction:
 *  - the conversation row is locked (FOR UPDATE) and must still be in the expected state, so a
 *    second claimer waits, then sees it already offered and gives up;
 *  - the agent's capacity is taken by a conditional UPDATE (`used + units <= capacity` and an
 *    allowed presence), which PostgreSQL re-checks against the committed row after any wait;
 *  - a unique index allows one pending offer per conversation, whatever happens above.
 * On embedded PostgreSQL there is one connection, so transactions run one after another anyway.
 */
export const OFFER_TIMEOUT_QUEUE = 'routing.offer-timeout';
export const DISPATCH_QUEUE = 'routing.dispatch';

type Trx = Kysely<DB>;

export interface LockedConversation {
  id: string;
  state: ConversationState;
  queue_id: string | null;
  workstream_id: string | null;
  assigned_user_id: number | null;
  held_capacity: number;
  closed_at: Date | null;
  social_profile_id: string;
}

export async function lockConversation(trx: Trx, conversationId: string): Promise<LockedConversation | undefined> {
  return trx
    .selectFrom('conversations')
    .select(['id', 'state', 'queue_id', 'workstream_id', 'assigned_user_id', 'held_capacity', 'closed_at', 'social_profile_id'])
    .where('id', '=', conversationId)
    .forUpdate()
    .executeTakeFirst();
}

/** Takes `units` of the agent's capacity if they fit and the agent is in one of `presences`. */
export async function takeCapacity(trx: Trx, userId: number, units: number, presences: readonly Presence[]): Promise<boolean> {
  const taken = await trx
    .updateTable('agents')
    .set({ used_capacity: sql`used_capacity + ${units}`, last_assigned_at: sql`now()`, updated_at: sql`now()` })
    .where('user_id', '=', userId)
    .where(sql<boolean>`capacity - used_capacity >= ${units}`)
    .where('presence', 'in', presences.length > 0 ? [...presences] : ['available'])
    .where('presence', '<>', 'offline')
    .returning(['capacity', 'used_capacity', 'presence'])
    .executeTakeFirst();
  if (!taken) return false;
  // full: set busy automatically, so the agent and supervisors see why no more work comes
  if (taken.presence === 'available' && taken.capacity - taken.used_capacity < Math.max(units, 1)) {
    await trx.updateTable('agents').set({ presence: 'busy', presence_automatic: true, presence_changed_at: sql`now()` }).where('user_id', '=', userId).execute();
  }
  return true;
}

/** Gives capacity back; an automatic busy returns to available, and the agent's queues get a new cycle. */
export async function releaseCapacity(trx: Trx, userId: number, units: number): Promise<void> {
  if (units <= 0) return;
  const agent = await trx
    .updateTable('agents')
    .set({ used_capacity: sql`greatest(used_capacity - ${units}, 0)`, updated_at: sql`now()` })
    .where('user_id', '=', userId)
    .returning(['presence', 'presence_automatic'])
    .executeTakeFirst();
  if (!agent) return;
  if (agent.presence === 'busy' && agent.presence_automatic) {
    await trx.updateTable('agents').set({ presence: 'available', presence_automatic: false, presence_changed_at: sql`now()` }).where('user_id', '=', userId).execute();
  }
  await dispatchAgentQueues(trx, userId);
}

/**
 * Asks for an assignment cycle on these queues. A cycle already waiting to run covers the new
 * reason too, so at most one waits per queue (a race may add a second: harmless).
 */
export async function requestDispatch(trx: Trx, queueIds: Iterable<string | null | undefined>): Promise<void> {
  for (const queueId of new Set(queueIds)) {
    if (!queueId) continue;
    const groupKey = `dispatch:${queueId}`;
    const waiting = await trx.selectFrom('jobs').select('id').where('group_key', '=', groupKey).where('state', '=', 'ready').limit(1).executeTakeFirst();
    if (!waiting) await enqueue(trx, { queue: DISPATCH_QUEUE, payload: { queueId }, groupKey, maxAttempts: 5 });
  }
}

export async function dispatchAgentQueues(trx: Trx, userId: number): Promise<void> {
  const queues = await trx.selectFrom('queue_members').select('queue_id').where('user_id', '=', userId).execute();
  await requestDispatch(trx, queues.map((q) => q.queue_id));
}

export interface OfferRequest {
  conversationId: string;
  userId: number;
  queueId: string | null;
  units: number;
  presences: readonly Presence[];
  timeoutSeconds: number;
  actor: Actor;
  reason: string;
  note?: string | null;
}

/**
 * Offers an open conversation to one agent. Returns the offer, or null when the conversation is
 * no longer open or the agent no longer fits (the caller tries someone else).
 */
export async function claimOffer(trx: Trx, notifier: Notifier, request: OfferRequest, locked?: LockedConversation): Promise<{ offerId: string; expiresAt: Date } | null> {
  const conversation = locked ?? (await lockConversation(trx, request.conversationId));
  if (!conversation || conversation.state !== 'open') return null;
  if (!(await takeCapacity(trx, request.userId, request.units, request.presences))) return null;
  const expiresAt = new Date(Date.now() + request.timeoutSeconds * 1000);
  const offer = await trx
    .insertInto('offers')
    .values({ conversation_id: request.conversationId, user_id: request.userId, queue_id: request.queueId, expires_at: expiresAt, note: request.note ?? null })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx
    .updateTable('conversations')
    .set({ state: 'offered', held_capacity: request.units, assigned_user_id: null, updated_at: sql`now()` })
    .where('id', '=', request.conversationId)
    .execute();
  if (request.queueId) await trx.updateTable('queues').set({ last_assigned_user_id: request.userId }).where('id', '=', request.queueId).execute();
  await recordTransition(trx, {
    conversationId: request.conversationId, kind: 'offered', from: 'open', to: 'offered', actor: request.actor,
    agentUserId: request.userId, queueId: request.queueId, reason: request.reason, details: { offerId: offer.id, ...(request.note ? { note: request.note } : {}) },
  });
  await enqueue(trx, { queue: OFFER_TIMEOUT_QUEUE, payload: { offerId: offer.id }, runAt: expiresAt, maxAttempts: 20 });
  await announceOffer(trx, notifier, { offerId: offer.id, conversationId: request.conversationId, userId: request.userId, change: 'offered', expiresAt: expiresAt.toISOString() });
  return { offerId: offer.id, expiresAt };
}
