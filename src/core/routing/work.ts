import { sql, type Kysely } from 'kysely';
import type { Notifier } from '../../db/notifier.ts';
import type { DB, OfferState, Presence } from '../../db/schema.ts';
import { RetryLater } from '../../jobs/runner.ts';
import type { Actor } from '../audit/log.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import { claimOffer, dispatchAgentQueues, lockConversation, releaseCapacity, requestDispatch, takeCapacity, type LockedConversation } from './claim.ts';
import { applyOverflowAction, enterQueue, type Workstream } from './queueing.ts';
import { announceConversation, announceOffer, recordTransition, ROUTING_ACTOR } from './records.ts';

/**
 * What agents and supervisors do with conversations — answer offers, transfer, wait for the
 * customer, end, close, reopen, assign — and the timers that act for them (offer timeout,
 * overflow after a wait).
 * Each is one short transaction that locks the conversation first, then the agent.
 */
type Trx = Kysely<DB>;
const EVERY_PRESENCE: Presence[] = ['available', 'busy', 'do-not-disturb', 'away'];

async function workstreamOf(trx: Trx, conversation: LockedConversation): Promise<Workstream> {
  if (!conversation.workstream_id) throw conflict('this conversation belongs to no workstream');
  return trx.selectFrom('workstreams').selectAll().where('id', '=', conversation.workstream_id).executeTakeFirstOrThrow();
}

async function mustLock(trx: Trx, conversationId: string): Promise<LockedConversation> {
  const conversation = await lockConversation(trx, conversationId);
  if (!conversation) throw notFound('conversation');
  return conversation;
}

async function setState(trx: Trx, conversation: LockedConversation, to: LockedConversation['state'], extra: Record<string, unknown> = {}) {
  await trx.updateTable('conversations').set({ state: to, updated_at: sql`now()`, ...extra }).where('id', '=', conversation.id).execute();
}

async function pendingOfferFor(trx: Trx, offerId: string) {
  const offer = await trx.selectFrom('offers').selectAll().where('id', '=', offerId).executeTakeFirst();
  if (!offer) throw notFound('offer');
  return offer;
}

/**
 * Ends a pending offer without assignment: capacity back, the conversation back to waiting in
 * its queue (served again by the next cycle, without this agent).
 */
async function closeOffer(trx: Trx, notifier: Notifier, offerId: string, state: Exclude<OfferState, 'pending' | 'accepted'>, actor: Actor): Promise<boolean> {
  const bare = await pendingOfferFor(trx, offerId);
  const conversation = await mustLock(trx, bare.conversation_id);
  const offer = await trx.selectFrom('offers').selectAll().where('id', '=', offerId).forUpdate().executeTakeFirstOrThrow();
  if (offer.state !== 'pending') return false;
  await trx.updateTable('offers').set({ state, answered_at: sql`now()` }).where('id', '=', offerId).execute();
  await setState(trx, conversation, 'open', { held_capacity: 0 });
  await recordTransition(trx, { conversationId: conversation.id, kind: `offer-${state}`, from: conversation.state, to: 'open', actor, agentUserId: offer.user_id, queueId: offer.queue_id, details: { offerId } });
  await releaseCapacity(trx, offer.user_id, conversation.held_capacity);
  await requestDispatch(trx, [conversation.queue_id]);
  await announceOffer(trx, notifier, { offerId, conversationId: conversation.id, userId: offer.user_id, change: state });
  return true;
}

export async function acceptOffer(db: Kysely<DB>, notifier: Notifier, offerId: string, actor: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const bare = await pendingOfferFor(trx, offerId);
    const conversation = await mustLock(trx, bare.conversation_id);
    const offer = await trx.selectFrom('offers').selectAll().where('id', '=', offerId).forUpdate().executeTakeFirstOrThrow();
    if (offer.state !== 'pending') throw conflict(`this offer is already ${offer.state}`);
    await trx.updateTable('offers').set({ state: 'accepted', answered_at: sql`now()` }).where('id', '=', offerId).execute();
    await setState(trx, conversation, 'active', { assigned_user_id: offer.user_id, waiting_since: null });
    await trx.updateTable('agents').set({ missed_offers: 0 }).where('user_id', '=', offer.user_id).execute();
    await recordTransition(trx, { conversationId: conversation.id, kind: 'accepted', from: 'offered', to: 'active', actor, agentUserId: offer.user_id, queueId: offer.queue_id, details: { offerId } });
    await announceOffer(trx, notifier, { offerId, conversationId: conversation.id, userId: offer.user_id, change: 'accepted' });
    await announceConversation(trx, notifier, conversation.id);
  });
}

export async function rejectOffer(db: Kysely<DB>, notifier: Notifier, offerId: string, actor: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (!(await closeOffer(trx, notifier, offerId, 'rejected', actor))) throw conflict('this offer is no longer pending');
  });
}

/** The offer-timeout job: an unanswered offer moves on; enough misses in a row set the agent away. */
export async function expireOffer(db: Kysely<DB>, notifier: Notifier, offerId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const offer = await trx.selectFrom('offers').select(['state', 'expires_at', 'user_id', 'conversation_id']).where('id', '=', offerId).executeTakeFirst();
    if (!offer || offer.state !== 'pending') return;
    const early = offer.expires_at.getTime() - Date.now();
    if (early > 0) throw new RetryLater('offer not expired yet', early);
    if (!(await closeOffer(trx, notifier, offerId, 'expired', ROUTING_ACTOR))) return;
    const ws = await trx.selectFrom('conversations as c').innerJoin('workstreams as w', 'w.id', 'c.workstream_id').select('w.missed_offers_before_away').where('c.id', '=', offer.conversation_id).executeTakeFirst();
    const agent = await trx.updateTable('agents').set({ missed_offers: sql`missed_offers + 1` }).where('user_id', '=', offer.user_id).returning(['missed_offers', 'presence']).executeTakeFirst();
    if (agent && ws && agent.missed_offers >= ws.missed_offers_before_away && agent.presence !== 'offline') {
      await trx.updateTable('agents').set({ presence: 'away', presence_automatic: false, missed_offers: 0, presence_changed_at: sql`now()` }).where('user_id', '=', offer.user_id).execute();
    }
  });
}

export interface TransferRequest {
  queueId?: string | undefined;
  userId?: number | undefined;
  note?: string | undefined;
}

/** From the agent who has it (or a supervisor) to a queue's waiting list, or as an offer to one agent. */
export async function transferConversation(db: Kysely<DB>, notifier: Notifier, conversationId: string, request: TransferRequest, actor: Actor): Promise<void> {
  if ((request.queueId === undefined) === (request.userId === undefined)) throw invalid('queueId', 'name either a queue or an agent');
  await db.transaction().execute(async (trx) => {
    const conversation = await mustLock(trx, conversationId);
    if (!['active', 'waiting', 'offered', 'open'].includes(conversation.state)) throw conflict(`a conversation in state ${conversation.state} cannot be transferred`);
    const workstream = await workstreamOf(trx, conversation);
    await leaveAgent(trx, notifier, conversation);
    const note = request.note ?? null;
    if (request.queueId !== undefined) {
      const queue = await trx.selectFrom('queues').select('id').where('id', '=', request.queueId).executeTakeFirst();
      if (!queue) throw notFound('queue');
      await enterQueue(trx, notifier, { conversationId, queueId: queue.id, workstream, actor, reason: 'transfer', from: conversation.state, note });
      return;
    }
    await setState(trx, conversation, 'open', { assigned_user_id: null, held_capacity: 0 });
    await recordTransition(trx, { conversationId, kind: 'transferred', from: conversation.state, to: 'open', actor, agentUserId: request.userId, queueId: conversation.queue_id, reason: 'transfer', details: note ? { note } : {} });
    const offer = await claimOffer(trx, notifier, {
      conversationId, userId: request.userId!, queueId: conversation.queue_id, units: workstream.capacity_per_conversation,
      presences: EVERY_PRESENCE, timeoutSeconds: workstream.offer_timeout_seconds, actor, reason: 'transfer', note,
    }, { ...conversation, state: 'open' });
    if (!offer) throw conflict('that agent is offline, unknown, or has no room for this conversation');
  });
}

/** The conversation's agent (or pending offer) lets go of it, giving back the capacity it held. */
async function leaveAgent(trx: Trx, notifier: Notifier, conversation: LockedConversation): Promise<void> {
  if (conversation.state === 'offered') {
    const pending = await trx.selectFrom('offers').select(['id', 'user_id']).where('conversation_id', '=', conversation.id).where('state', '=', 'pending').forUpdate().executeTakeFirst();
    if (pending) {
      await trx.updateTable('offers').set({ state: 'withdrawn', answered_at: sql`now()` }).where('id', '=', pending.id).execute();
      await releaseCapacity(trx, pending.user_id, conversation.held_capacity);
      await announceOffer(trx, notifier, { offerId: pending.id, conversationId: conversation.id, userId: pending.user_id, change: 'withdrawn' });
    }
  } else if (conversation.assigned_user_id !== null) {
    await releaseCapacity(trx, conversation.assigned_user_id, conversation.held_capacity);
  }
}

/** The agent ends the conversation: wrap-up, where they finish notes while still holding it. */
export async function endConversation(db: Kysely<DB>, notifier: Notifier, conversationId: string, actor: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const conversation = await mustLock(trx, conversationId);
    if (!['active', 'waiting'].includes(conversation.state)) throw conflict(`a conversation in state ${conversation.state} cannot be ended`);
    await setState(trx, conversation, 'wrap-up');
    await recordTransition(trx, { conversationId, kind: 'ended', from: conversation.state, to: 'wrap-up', actor, agentUserId: conversation.assigned_user_id, queueId: conversation.queue_id });
    await announceConversation(trx, notifier, conversationId);
  });
}

/**
 * Between `active` and `waiting` (the agent waits for the customer) the conversation keeps its
 * agent and the capacity it holds: the customer's answer must reach that agent at once, and
 * giving the room away meanwhile could leave them with no room when it comes. Returns false when
 * the conversation is not (or no longer) in `from`.
 */
async function switchWaiting(trx: Trx, notifier: Notifier, conversationId: string, from: 'active' | 'waiting', actor: Actor, reason?: string): Promise<boolean> {
  const conversation = await mustLock(trx, conversationId);
  if (conversation.state !== from) return false;
  const to = from === 'active' ? 'waiting' : 'active';
  await setState(trx, conversation, to);
  await recordTransition(trx, {
    conversationId, kind: to === 'waiting' ? 'waiting' : 'resumed', from, to, actor,
    agentUserId: conversation.assigned_user_id, queueId: conversation.queue_id, ...(reason ? { reason } : {}),
  });
  await announceConversation(trx, notifier, conversationId);
  return true;
}

/** The agent waits for the customer to answer: the workstream may keep it open past auto-close. */
export async function waitForCustomer(db: Kysely<DB>, notifier: Notifier, conversationId: string, actor: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (!(await switchWaiting(trx, notifier, conversationId, 'active', actor))) throw conflict('only an active conversation can wait for the customer');
  });
}

/** The agent takes it up again without waiting for the customer. */
export async function resumeConversation(db: Kysely<DB>, notifier: Notifier, conversationId: string, actor: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (!(await switchWaiting(trx, notifier, conversationId, 'waiting', actor))) throw conflict('only a conversation waiting for the customer can be resumed');
  });
}

/** Inbound processing, in the transaction storing a customer message: a waiting conversation is active again. */
export async function customerWrote(trx: Trx, notifier: Notifier, conversationId: string): Promise<void> {
  await switchWaiting(trx, notifier, conversationId, 'waiting', ROUTING_ACTOR, 'customer-message');
}

/** Closes it for good (after wrap-up, by hand or by inactivity); the capacity it held frees. */
export async function closeConversation(db: Kysely<DB>, notifier: Notifier, conversationId: string, actor: Actor, reason = 'closed'): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const conversation = await mustLock(trx, conversationId);
    if (conversation.state === 'closed') throw conflict('the conversation is already closed');
    await closeLocked(trx, notifier, conversation, actor, reason);
  });
}

export async function closeLocked(trx: Trx, notifier: Notifier, conversation: LockedConversation, actor: Actor, reason: string): Promise<void> {
  await leaveAgent(trx, notifier, conversation);
  // the agent it was assigned to stays on record: a returning customer may prefer them
  await setState(trx, conversation, 'closed', { closed_at: sql`now()`, held_capacity: 0, waiting_since: null });
  await recordTransition(trx, { conversationId: conversation.id, kind: 'closed', from: conversation.state, to: 'closed', actor, agentUserId: conversation.assigned_user_id, queueId: conversation.queue_id, reason });
  await announceConversation(trx, notifier, conversation.id);
}

/** Brings a recently closed conversation back, assigned to whoever reopens it. */
export async function reopenConversation(db: Kysely<DB>, notifier: Notifier, conversationId: string, userId: number, actor: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const conversation = await mustLock(trx, conversationId);
    if (conversation.state !== 'closed') throw conflict('only a closed conversation can be reopened');
    const workstream = await workstreamOf(trx, conversation);
    const hours = (Date.now() - (conversation.closed_at?.getTime() ?? 0)) / 3_600_000;
    if (hours > workstream.reopen_within_hours) throw conflict(`it was closed more than ${workstream.reopen_within_hours} hours ago: the customer's next message opens a new conversation`);
    const other = await trx.selectFrom('conversations').select('id').where('social_profile_id', '=', conversation.social_profile_id).where('state', '<>', 'closed').executeTakeFirst();
    if (other) throw conflict('the customer already has a newer open conversation');
    await agentRow(trx, userId);
    if (!(await takeCapacity(trx, userId, workstream.capacity_per_conversation, EVERY_PRESENCE))) throw conflict('you are offline or have no room for another conversation');
    await setState(trx, conversation, 'active', { assigned_user_id: userId, held_capacity: workstream.capacity_per_conversation, closed_at: null, waiting_since: null });
    await recordTransition(trx, { conversationId, kind: 'reopened', from: 'closed', to: 'active', actor, agentUserId: userId, queueId: conversation.queue_id });
    await announceConversation(trx, notifier, conversationId);
  });
}

/** Supervisors: straight to an agent, without an offer; whoever had it lets go. */
export async function assignConversation(db: Kysely<DB>, notifier: Notifier, conversationId: string, userId: number, actor: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const conversation = await mustLock(trx, conversationId);
    if (!['open', 'offered', 'active', 'waiting'].includes(conversation.state)) throw conflict(`a conversation in state ${conversation.state} cannot be assigned`);
    if (conversation.assigned_user_id === userId && conversation.state === 'active') return;
    const workstream = await workstreamOf(trx, conversation);
    await leaveAgent(trx, notifier, conversation);
    await agentRow(trx, userId);
    if (!(await takeCapacity(trx, userId, workstream.capacity_per_conversation, EVERY_PRESENCE))) throw conflict('that agent is offline or has no room for this conversation');
    await setState(trx, conversation, 'active', { assigned_user_id: userId, held_capacity: workstream.capacity_per_conversation, waiting_since: null });
    await recordTransition(trx, { conversationId, kind: 'assigned', from: conversation.state, to: 'active', actor, agentUserId: userId, queueId: conversation.queue_id, reason: 'supervisor' });
    await announceConversation(trx, notifier, conversationId);
  });
}

/** Every user who takes conversations has an agent row; it appears the first time it is needed. */
export async function agentRow(trx: Trx, userId: number): Promise<void> {
  const user = await trx.selectFrom('users').select(['id', 'disabled_at']).where('id', '=', userId).executeTakeFirst();
  if (!user || user.disabled_at) throw notFound('user');
  await trx.insertInto('agents').values({ user_id: userId }).onConflict((oc) => oc.column('user_id').doNothing()).execute();
}

/**
 * Sets an agent's presence. Becoming available starts cycles on their queues; going offline
 * withdraws their pending offers, which go to the next agent.
 */
export async function setPresence(db: Kysely<DB>, notifier: Notifier, userId: number, presence: Presence, actor: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await agentRow(trx, userId);
    await trx.updateTable('agents').set({ presence, presence_automatic: false, missed_offers: 0, presence_changed_at: sql`now()`, updated_at: sql`now()` }).where('user_id', '=', userId).execute();
    if (presence !== 'offline') await dispatchAgentQueues(trx, userId);
  });
  if (presence !== 'offline') return;
  // one transaction per offer, conversation locked before agent, as everywhere else
  const pending = await db.selectFrom('offers').select('id').where('user_id', '=', userId).where('state', '=', 'pending').execute();
  for (const offer of pending) await db.transaction().execute((trx) => closeOffer(trx, notifier, offer.id, 'withdrawn', actor));
}

/** The overflow job: still waiting in the same queue since the same moment? Then the rule applies. */
export async function applyWaitingOverflow(db: Kysely<DB>, notifier: Notifier, payload: { conversationId: string; queueId: string; queuedAt: string; rule: number }): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const conversation = await lockConversation(trx, payload.conversationId);
    if (!conversation || conversation.state !== 'open' || conversation.queue_id !== payload.queueId) return;
    const current = await trx.selectFrom('conversations').select('queued_at').where('id', '=', payload.conversationId).executeTakeFirstOrThrow();
    if (current.queued_at?.toISOString() !== payload.queuedAt) return;
    const queue = await trx.selectFrom('queues').select('overflow').where('id', '=', payload.queueId).executeTakeFirst();
    const rule = queue?.overflow[payload.rule];
    if (!rule || rule.when !== 'waiting') return;
    const workstream = await workstreamOf(trx, conversation);
    await recordTransition(trx, { conversationId: conversation.id, kind: 'overflow', actor: ROUTING_ACTOR, queueId: payload.queueId, reason: `waited ${rule.afterMinutes} minutes`, details: { action: rule.action } });
    await applyOverflowAction(trx, notifier, rule.action, { conversationId: conversation.id, queueId: payload.queueId, workstream, actor: ROUTING_ACTOR, reason: 'waiting', from: 'open' }, 0);
  });
}
