import { sql, type Kysely } from 'kysely';
import type { ConversationState, DB } from '../../db/schema.ts';
import { notFound } from '../errors.ts';

/** What the API shows of conversations and their messages (the read side); times as ISO 8601. */
const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

export interface ConversationSummary {
  id: string;
  state: ConversationState;
  channel: { id: string; provider: string; name: string };
  customer: { socialProfileId: string; providerUserId: string; displayName: string | null; avatarUrl: string | null; contactId: string | null };
  openedAt: string;
  closedAt: string | null;
  lastCustomerMessageAt: string | null;
  lastMessageAt: string | null;
}

export interface MessageView {
  id: string;
  direction: 'inbound' | 'outbound';
  author: string;
  /** The user who wrote it (agents' messages). */
  authorUserId: number | null;
  kind: string;
  text: string | null;
  content: Record<string, unknown>;
  status: string;
  error: { code: string; message: string | null } | null;
  providerMessageId: string | null;
  occurredAt: string;
  /** When the provider accepted it (outbound). */
  sentAt: string | null;
  attachments: { id: string; kind: string; state: string; contentType: string | null; fileName: string | null; size: number | null; error: string | null }[];
}

function base(db: Kysely<DB>) {
  return db
    .selectFrom('conversations as c')
    .innerJoin('channel_instances as ch', 'ch.id', 'c.channel_id')
    .innerJoin('social_profiles as p', 'p.id', 'c.social_profile_id')
    .select([
      'c.id', 'c.state', 'c.opened_at', 'c.closed_at', 'c.last_customer_message_at', 'c.last_message_at',
      'ch.id as channel_id', 'ch.provider', 'ch.name as channel_name',
      'p.id as profile_id', 'p.provider_user_id', 'p.display_name', 'p.avatar_url', 'c.contact_id',
    ]);
}

type Row = Awaited<ReturnType<ReturnType<typeof base>['executeTakeFirstOrThrow']>>;

function summary(row: Row): ConversationSummary {
  return {
    id: row.id,
    state: row.state,
    channel: { id: row.channel_id, provider: row.provider, name: row.channel_name },
    customer: { socialProfileId: row.profile_id, providerUserId: row.provider_user_id, displayName: row.display_name, avatarUrl: row.avatar_url, contactId: row.contact_id },
    openedAt: iso(row.opened_at),
    closedAt: isoOrNull(row.closed_at),
    lastCustomerMessageAt: isoOrNull(row.last_customer_message_at),
    lastMessageAt: isoOrNull(row.last_message_at),
  };
}

/** Who is looking: agents see only what routing gives them (the same rule as routing's scope checks). */
export interface Viewer {
  id: number;
  role: 'admin' | 'supervisor' | 'agent';
}

export async function listConversations(db: Kysely<DB>, viewer: Viewer, filter: { state?: ConversationState; channelId?: string; limit: number; before?: string }): Promise<ConversationSummary[]> {
  let query = base(db).orderBy(sql`coalesce(c.last_message_at, c.opened_at)`, 'desc').orderBy('c.id', 'desc').limit(filter.limit);
  if (viewer.role === 'agent') {
    // assigned to them, offered to them, or waiting in one of their queues
    query = query.where((eb) =>
      eb.or([
        eb('c.assigned_user_id', '=', viewer.id),
        eb.exists(eb.selectFrom('offers as o').select('o.id').whereRef('o.conversation_id', '=', 'c.id').where('o.user_id', '=', viewer.id).where('o.state', '=', 'pending')),
        eb.and([
          eb('c.state', '=', 'open'),
          eb.exists(eb.selectFrom('queue_members as qm').select('qm.user_id').whereRef('qm.queue_id', '=', 'c.queue_id').where('qm.user_id', '=', viewer.id)),
        ]),
      ]),
    );
  }
  if (filter.state) query = query.where('c.state', '=', filter.state);
  if (filter.channelId) query = query.where('c.channel_id', '=', filter.channelId);
  if (filter.before) query = query.where(sql`coalesce(c.last_message_at, c.opened_at)`, '<', new Date(filter.before));
  return (await query.execute()).map(summary);
}

export async function getConversation(db: Kysely<DB>, id: string): Promise<ConversationSummary> {
  const row = await base(db).where('c.id', '=', id).executeTakeFirst();
  if (!row) throw notFound('conversation');
  return summary(row);
}

type MessageRow = Awaited<ReturnType<ReturnType<typeof messageRows>['execute']>>[number];

function messageRows(db: Kysely<DB>) {
  return db.selectFrom('messages').selectAll();
}

async function views(db: Kysely<DB>, messages: MessageRow[]): Promise<MessageView[]> {
  const attachments = messages.length
    ? await db.selectFrom('attachments').selectAll().where('message_id', 'in', messages.map((m) => m.id)).orderBy('created_at').execute()
    : [];
  return messages.map((m) => ({
    id: m.id,
    direction: m.direction,
    author: m.author,
    authorUserId: m.author_user_id,
    kind: m.kind,
    text: m.text,
    content: m.content,
    status: m.status,
    error: m.error_code ? { code: m.error_code, message: m.error_message } : null,
    providerMessageId: m.provider_message_id,
    occurredAt: iso(m.occurred_at),
    sentAt: isoOrNull(m.sent_at),
    attachments: attachments
      .filter((a) => a.message_id === m.id)
      .map((a) => ({ id: a.id, kind: a.kind, state: a.state, contentType: a.content_type, fileName: a.file_name, size: a.size, error: a.error })),
  }));
}

export async function conversationOfAttachment(db: Kysely<DB>, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('attachments as a').innerJoin('messages as m', 'm.id', 'a.message_id').select('m.conversation_id').where('a.id', '=', id).executeTakeFirst();
  return row?.conversation_id;
}

/** Messages in provider-timestamp order, whatever order they arrived in. */
export async function listMessages(db: Kysely<DB>, conversationId: string): Promise<MessageView[]> {
  await getConversation(db, conversationId);
  return views(db, await messageRows(db).where('conversation_id', '=', conversationId).orderBy('occurred_at').orderBy('created_at').execute());
}

export async function getMessage(db: Kysely<DB>, id: string): Promise<MessageView> {
  const row = await messageRows(db).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('message');
  return (await views(db, [row]))[0]!;
}

export async function attachmentFile(db: Kysely<DB>, id: string): Promise<{ storageKey: string; contentType: string; fileName: string | null; conversationId: string }> {
  const row = await db
    .selectFrom('attachments as a')
    .innerJoin('messages as m', 'm.id', 'a.message_id')
    .select(['a.storage_key', 'a.content_type', 'a.file_name', 'a.state', 'm.conversation_id'])
    .where('a.id', '=', id)
    .executeTakeFirst();
  if (!row || row.state !== 'stored' || !row.storage_key) throw notFound('attachment');
  return { storageKey: row.storage_key, contentType: row.content_type ?? 'application/octet-stream', fileName: row.file_name, conversationId: row.conversation_id };
}
