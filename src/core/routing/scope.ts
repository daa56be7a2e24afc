import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.ts';
import type { AuthUser } from '../users/sessions.ts';

type Viewer = Pick<AuthUser, 'id' | 'role'>;

/**
 * What an agent may see and do: conversations offered or assigned to them, and the waiting lists
 * of their queues. Supervisors and administrators see everything.
 */
const oversees = (user: Viewer) => user.role === 'admin' || user.role === 'supervisor';

export async function mayHandleConversation(db: Kysely<DB>, user: Viewer, conversationId: string): Promise<boolean> {
  if (oversees(user)) return true;
  const conversation = await db.selectFrom('conversations').select(['assigned_user_id']).where('id', '=', conversationId).executeTakeFirst();
  return conversation?.assigned_user_id === user.id;
}

export async function maySeeConversation(db: Kysely<DB>, user: Viewer, conversationId: string): Promise<boolean> {
  if (oversees(user)) return true;
  const conversation = await db.selectFrom('conversations').select(['assigned_user_id', 'state', 'queue_id']).where('id', '=', conversationId).executeTakeFirst();
  if (!conversation) return true; // answered 404 by the route
  if (conversation.assigned_user_id === user.id) return true;
  const offered = await db.selectFrom('offers').select('id').where('conversation_id', '=', conversationId).where('user_id', '=', user.id).where('state', '=', 'pending').executeTakeFirst();
  if (offered) return true;
  return conversation.state === 'open' && conversation.queue_id !== null && (await isMember(db, user, conversation.queue_id));
}

export async function isMember(db: Kysely<DB>, user: Viewer, queueId: string): Promise<boolean> {
  if (oversees(user)) return true;
  const member = await db.selectFrom('queue_members').select('user_id').where('queue_id', '=', queueId).where('user_id', '=', user.id).executeTakeFirst();
  return member !== undefined;
}

export async function ownsOffer(db: Kysely<DB>, user: Viewer, offerId: string): Promise<boolean> {
  const offer = await db.selectFrom('offers').select('user_id').where('id', '=', offerId).executeTakeFirst();
  return !offer || offer.user_id === user.id;
}
