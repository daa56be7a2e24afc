import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { attachmentFile, conversationOfAttachment, getConversation, listConversations, listMessages } from '../../core/conversations/read.ts';
import { maySeeConversation } from '../../core/routing/scope.ts';
import { currentUser } from '../access.ts';
import type { Database } from '../../db/database.ts';
import type { MediaStore } from '../../storage/media-store.ts';
import { notFound } from '../errors.ts';
import { errors } from './schemas.ts';

/**
 * Reading conversations, their messages and attachments. Supervisors and admins see every
 * conversation; agents those offered or assigned to them and their queues' waiting lists.
 */
const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Uuid = Type.String({ format: 'uuid' });
const State = Type.Enum(['open', 'offered', 'active', 'waiting', 'wrap-up', 'closed']);

const ConversationSchema = Type.Object({
  id: Uuid,
  state: State,
  channel: Type.Object({ id: Uuid, provider: Type.String(), name: Type.String() }),
  customer: Type.Object({
    socialProfileId: Uuid,
    providerUserId: Type.String({ description: 'PSID, WhatsApp number or LINE user id' }),
    displayName: Nullable(Type.String()),
    avatarUrl: Nullable(Type.String()),
    contactId: Nullable(Uuid),
  }),
  openedAt: DateTime,
  closedAt: Nullable(DateTime),
  lastCustomerMessageAt: Nullable(DateTime),
  lastMessageAt: Nullable(DateTime),
});

export const MessageSchema = Type.Object({
  id: Uuid,
  direction: Type.Enum(['inbound', 'outbound']),
  author: Type.String({ description: 'customer, agent, bot, system (notices) or page (sent from the provider’s own inbox)' }),
  authorUserId: Nullable(Type.Integer({ description: 'the user who wrote it (agent messages)' })),
  kind: Type.String({ description: 'text, image, video, audio, file, location, sticker, payload, mixed, notice or unsupported' }),
  text: Nullable(Type.String()),
  content: Type.Record(Type.String(), Type.Unknown()),
  status: Type.String({ description: 'received (inbound); pending, sent, delivered, read or failed (outbound)' }),
  error: Nullable(Type.Object({ code: Type.String(), message: Nullable(Type.String()) }, { description: 'failed: the provider code and what it means; pending: the last attempt’s error while retrying' })),
  providerMessageId: Nullable(Type.String()),
  occurredAt: DateTime,
  sentAt: Nullable(DateTime),
  attachments: Type.Array(
    Type.Object({
      id: Uuid,
      kind: Type.String(),
      state: Type.String({ description: 'pending (being fetched), stored, failed, or blocked (not accepted on this channel)' }),
      contentType: Nullable(Type.String()),
      fileName: Nullable(Type.String()),
      size: Nullable(Type.Integer()),
      error: Nullable(Type.String()),
    }),
  ),
});

const IdParams = Type.Object({ id: Uuid });

export async function conversationRoutes(app: FastifyInstance, deps: { database: Database; media: MediaStore }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = deps.database.db;
  const tags = ['Conversations'];
  const roles = ['admin', 'supervisor', 'agent'] as const;
  const idOf = (request: unknown) => (request as { params: { id: string } }).params.id;
  const config = { roles, scope: (request: unknown, user: Parameters<typeof maySeeConversation>[1]) => maySeeConversation(db, user, idOf(request)) };

  r.get('/api/v1/conversations', {
    config: { roles },
    schema: {
      tags,
      summary: 'List conversations, most recent activity first',
      querystring: Type.Object({
        state: Type.Optional(State),
        channelId: Type.Optional(Uuid),
        before: Type.Optional(DateTime),
        limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
      }),
      response: { 200: Type.Object({ conversations: Type.Array(ConversationSchema) }), ...errors(400, 401, 403) },
    },
  }, async (request) => ({ conversations: await listConversations(db, currentUser(request), request.query) }));

  r.get('/api/v1/conversations/:id', {
    config,
    schema: { tags, summary: 'One conversation', params: IdParams, response: { 200: ConversationSchema, ...errors(400, 401, 403, 404) } },
  }, async (request) => getConversation(db, request.params.id));

  r.get('/api/v1/conversations/:id/messages', {
    config,
    schema: {
      tags,
      summary: 'Messages of a conversation, in the order the customer and agents wrote them',
      params: IdParams,
      response: { 200: Type.Object({ messages: Type.Array(MessageSchema) }), ...errors(400, 401, 403, 404) },
    },
  }, async (request) => ({ messages: await listMessages(db, request.params.id) }));

  r.get('/api/v1/attachments/:id', {
    config: {
      roles,
      scope: async (request: unknown, user: Parameters<typeof maySeeConversation>[1]) => {
        const conversationId = await conversationOfAttachment(db, idOf(request));
        return conversationId === undefined || maySeeConversation(db, user, conversationId);
      },
    },
    schema: { tags, summary: 'Download a stored attachment', params: IdParams, response: { ...errors(400, 401, 403, 404) } },
  }, async (request, reply) => {
    const file = await attachmentFile(db, request.params.id);
    const stored = await deps.media.open(file.storageKey);
    if (!stored) throw notFound('the attachment file is missing from storage');
    reply.header('content-type', file.contentType).header('content-length', stored.size).header('x-content-type-options', 'nosniff');
    reply.header('content-disposition', `attachment${file.fileName ? `; filename="${file.fileName.replace(/["\\\r\n]/g, '_')}"` : ''}`);
    return reply.send(stored.stream);
  });
}
