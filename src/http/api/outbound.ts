import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { MediaLinks } from '../../core/conversations/media-links.ts';
import { mayHandleConversation, maySeeConversation } from '../../core/routing/scope.ts';
import type { Replies } from '../../core/conversations/reply.ts';
import type { Database } from '../../db/database.ts';
import type { MediaStore } from '../../storage/media-store.ts';
import { currentUser } from '../access.ts';
import { forbidden, notFound } from '../errors.ts';
import { MessageSchema } from './conversations.ts';
import { errors } from './schemas.ts';

/**
 * Writing to customers: what the session window allows now, uploading a file to attach,
 * sending a message (202: accepted for delivery, status follows), and the signed, time-limited
 * media links providers download agents' files from.
 */
const Uuid = Type.String({ format: 'uuid' });
const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const IdParams = Type.Object({ id: Uuid });

const WindowSchema = Type.Object({
  state: Type.Enum(['open', 'closed', 'none'], { description: 'none: the channel has no messaging window (LINE)' }),
  closesAt: Nullable(DateTime),
  allowed: Type.Enum(['free-form', 'tagged', 'template-only', 'nothing'], {
    description: 'free-form: text and files; tagged: text and files sent with the Facebook HUMAN_AGENT tag; template-only: approved templates; nothing: wait for the customer',
  }),
  facebookMode: Type.Optional(Type.Enum(['RESPONSE', 'HUMAN_AGENT'])),
  reason: Type.String(),
  templates: Type.Array(Type.Object({ id: Uuid, name: Type.String(), language: Type.String(), body: Type.String({ description: 'approved text with {{1}}-style variables' }) })),
});

const SendBody = Type.Object(
  {
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
    attachmentIds: Type.Optional(Type.Array(Uuid, { maxItems: 20, description: 'ids from POST /api/v1/attachments' })),
    template: Type.Optional(
      Type.Object({
        templateId: Uuid,
        variables: Type.Record(Type.String({ pattern: '^\\w{1,32}$' }), Type.String({ maxLength: 1024 }), { default: {} }),
      }),
    ),
  },
  { additionalProperties: false },
);

const UploadSchema = Type.Object({ id: Uuid, kind: Type.String(), contentType: Type.String(), fileName: Nullable(Type.String()), size: Type.Integer() });

export async function outboundRoutes(app: FastifyInstance, deps: { database: Database; media: MediaStore; replies: Replies; links: MediaLinks | null; maxUploadBytes: number }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Conversations'];
  const roles = ['admin', 'supervisor', 'agent'] as const;
  const db = deps.database.db;
  type User = { id: number; role: 'admin' | 'supervisor' | 'agent' };
  const idOf = (request: unknown) => (request as { params: { id: string } }).params.id;
  const sees = { roles, scope: (request: unknown, user: User) => maySeeConversation(db, user, idOf(request)) };
  const handles = { roles, scope: (request: unknown, user: User) => mayHandleConversation(db, user, idOf(request)) };

  r.get('/api/v1/conversations/:id/session-window', {
    config: sees,
    schema: { tags, summary: 'What may be sent to the customer now, and until when', params: IdParams, response: { 200: WindowSchema, ...errors(400, 401, 403, 404) } },
  }, async (request) => {
    const window = await deps.replies.sessionWindowOf(request.params.id);
    return { ...window, closesAt: window.closesAt?.toISOString() ?? null };
  });

  r.post('/api/v1/conversations/:id/messages', {
    config: handles,
    schema: {
      tags,
      summary: 'Send a message (text, attachments or an approved template); delivered in order, status follows',
      description: 'Answers 202 once the message is stored with its delivery queued. With an Idempotency-Key header, repeating the request returns the first message instead of sending again. 409: the session window does not allow it now; 422: a provider limit is exceeded.',
      params: IdParams,
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
      body: SendBody,
      response: { 202: MessageSchema, ...errors(400, 401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const { message, replayed } = await deps.replies.send(currentUser(request), request.params.id, request.body, request.headers['idempotency-key']);
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.status(202).send(message);
  });

  // uploads keep their bytes as sent, whatever the type: JSON or form bodies are files here too
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.maxUploadBytes }, (_request, body, done) => done(null, body));
    scope.withTypeProvider<TypeBoxTypeProvider>().post('/api/v1/attachments', {
      config: { roles, scope: (request: unknown, user: User) => mayHandleConversation(db, user, (request as { query: { conversationId: string } }).query.conversationId) },
      schema: {
        tags,
        summary: 'Upload a file to attach to a message in a conversation',
        description: 'The body is the file itself, with its Content-Type; the file name may be given as ?fileName=. Refused (403) when the workstream does not allow agent attachments.',
        querystring: Type.Object({ conversationId: Uuid, fileName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }),
        response: { 201: UploadSchema, ...errors(400, 401, 403, 404, 422) },
      },
    }, async (request, reply) => {
      const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const contentType = request.headers['content-type'] ?? 'application/octet-stream';
      const upload = await deps.replies.upload(currentUser(request), request.query.conversationId, { bytes, contentType, fileName: request.query.fileName }, (key, data) => deps.media.put(key, data));
      return reply.status(201).send(upload);
    });
  });

  r.get('/media/:id', {
    config: { public: true },
    schema: {
      tags,
      summary: 'An agent’s attachment, for the provider to download (signed, time-limited link)',
      params: IdParams,
      querystring: Type.Object({ expires: Type.Optional(Type.String()), signature: Type.Optional(Type.String()) }),
      response: { ...errors(400, 403, 404) },
    },
  }, async (request, reply) => {
    if (!deps.links?.valid(request.params.id, request.query.expires, request.query.signature)) throw forbidden('this media link is invalid or has expired');
    const row = await deps.database.db
      .selectFrom('attachments as a')
      .innerJoin('messages as m', 'm.id', 'a.message_id')
      .select(['a.storage_key', 'a.content_type', 'a.file_name'])
      .where('a.id', '=', request.params.id)
      .where('m.direction', '=', 'outbound')
      .executeTakeFirst();
    const stored = row?.storage_key ? await deps.media.open(row.storage_key) : null;
    if (!row || !stored) throw notFound('no such file');
    reply.header('content-type', row.content_type ?? 'application/octet-stream').header('content-length', stored.size).header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'private, no-store');
    if (row.file_name) reply.header('content-disposition', `inline; filename="${row.file_name.replace(/["\\\r\n]/g, '_')}"`);
    return reply.send(stored.stream);
  });
}
