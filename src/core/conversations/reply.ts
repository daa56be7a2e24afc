import { sql, type Kysely, type Transaction } from 'kysely';
import type { Notifier } from '../../db/notifier.ts';
import type { DB } from '../../db/schema.ts';
import { enqueue } from '../../jobs/queue.ts';
import type { Capabilities, ProviderId } from '../../providers/types.ts';
import { conflict, invalid, isUniqueViolation, notAllowed } from '../errors.ts';
import { CONVERSATION_EVENTS, type ConversationChange } from './ingest.ts';
import { attachmentKind, checkLimits, renderTemplate } from './outbound-limits.ts';
import { mayHandleConversation } from '../routing/scope.ts';
import { getMessage, type MessageView, type Viewer } from './read.ts';
import { permits, type SessionWindow } from './session-window.ts';
import { conversationContext, windowOf, type ConversationContext } from './window-context.ts';

/**
 * An agent's message on its way out: checked against the session window, the workstream's
 * attachment setting and the provider's limits, then stored as `pending` together with its
 * delivery job in one transaction. Nothing that is not allowed reaches the queue, and a
 * client's idempotency key maps a repeated request to the message it already created.
 */
export const OUTBOUND_QUEUE = 'outbound';

/** Jobs of one conversation run one at a time, in order: a later message never overtakes an earlier one. */
export const deliveryGroup = (conversationId: string) => `conversation:${conversationId}`;

/** Delivery counts its own attempts (rate-limit waits are not failures), so the job itself may be retried many times. */
const DELIVERY_JOB_ATTEMPTS = 1000;

/** Queues the delivery of a stored `pending` message; call it in the transaction that stored it. */
export async function queueDelivery(trx: Kysely<DB>, conversationId: string, messageId: string): Promise<void> {
  await enqueue(trx, { queue: OUTBOUND_QUEUE, payload: { messageId }, groupKey: deliveryGroup(conversationId), maxAttempts: DELIVERY_JOB_ATTEMPTS });
}

export interface SendInput {
  text?: string;
  attachmentIds?: string[];
  template?: { templateId: string; variables: Record<string, string> };
}

export interface OutboundDeps {
  db: Kysely<DB>;
  notifier: Notifier;
  capabilities(provider: ProviderId): Capabilities;
  now(): Date;
}

export interface WindowView extends SessionWindow {
  templates: { id: string; name: string; language: string; body: string }[];
}

export function createReplies(deps: OutboundDeps) {
  const { db, notifier } = deps;

  async function templatesOf(executor: Kysely<DB>, context: ConversationContext) {
    if (!context.workstreamId) return [];
    return executor
      .selectFrom('workstream_templates')
      .select(['id', 'name', 'language', 'body', 'provider_template_id'])
      .where('workstream_id', '=', context.workstreamId)
      .orderBy('name')
      .orderBy('language')
      .execute();
  }

  /** What the agent may send now, with the workstream's templates when they are the way to write. */
  async function sessionWindowOf(conversationId: string): Promise<WindowView> {
    const context = await conversationContext(db, conversationId);
    const capabilities = deps.capabilities(context.provider);
    const window = windowOf(context, capabilities, 'agent', deps.now());
    const templates = capabilities.templatesOutsideWindow && permits(window, 'template')
      ? (await templatesOf(db, context)).filter((t) => t.provider_template_id).map(({ id, name, language, body }) => ({ id, name, language, body }))
      : [];
    return { ...window, templates };
  }

  async function byKey(conversationId: string, key: string): Promise<MessageView | undefined> {
    const row = await db.selectFrom('messages').select('id').where('conversation_id', '=', conversationId).where('idempotency_key', '=', key).executeTakeFirst();
    return row ? getMessage(db, row.id) : undefined;
  }

  async function store(trx: Transaction<DB>, viewer: Viewer, conversationId: string, input: SendInput, key: string | undefined): Promise<string> {
    const context = await conversationContext(trx, conversationId);
    if (context.state === 'closed') throw conflict('the conversation is closed: the customer’s next message opens a new one', { reason: 'conversation_closed' });
    const capabilities = deps.capabilities(context.provider);
    const now = deps.now();
    const window = windowOf(context, capabilities, 'agent', now);
    if (!permits(window, input.template ? 'template' : 'free-form')) {
      throw conflict(window.reason, { reason: 'window', window: { state: window.state, allowed: window.allowed, closesAt: window.closesAt?.toISOString() ?? null } });
    }

    let text = input.text ?? null;
    const content: Record<string, unknown> = {};
    const files: { id: string; storage_key: string; content_type: string; file_name: string | null; size: number }[] = [];
    if (input.template) {
      if (!capabilities.templatesOutsideWindow) throw invalid('template', 'this channel has no approved templates: write a text instead');
      if (input.text || input.attachmentIds?.length) throw invalid('template', 'a template is sent alone, without text or attachments');
      const template = (await templatesOf(trx, context)).find((t) => t.id === input.template!.templateId);
      if (!template) throw invalid('template.templateId', 'no such template in this conversation’s workstream');
      if (!template.provider_template_id) throw invalid('template.templateId', 'this template has no approved provider template id yet');
      text = renderTemplate(template.body, input.template.variables);
      content.template = { id: template.id, name: template.name, language: template.language, providerTemplateId: template.provider_template_id, variables: input.template.variables };
    } else if (input.attachmentIds?.length) {
      if (!context.agentAttachments) throw notAllowed('agents may not send attachments in this workstream');
      const ids = [...new Set(input.attachmentIds)];
      const found = await trx.selectFrom('uploads').select(['id', 'storage_key', 'content_type', 'file_name', 'size']).where('id', 'in', ids).where('conversation_id', '=', conversationId).execute();
      for (const [index, id] of ids.entries()) {
        const upload = found.find((f) => f.id === id);
        if (!upload) throw invalid(`attachmentIds[${index}]`, 'no such upload for this conversation');
        files.push(upload);
      }
    }
    checkLimits(context.provider, capabilities, { text, files: files.map((f) => ({ kind: attachmentKind(f.content_type), contentType: f.content_type, size: f.size })) });

    const kind = input.template ? 'template' : files.length === 0 ? 'text' : files.every((f) => attachmentKind(f.content_type) === attachmentKind(files[0]!.content_type)) ? attachmentKind(files[0]!.content_type) : 'mixed';
    const message = await trx
      .insertInto('messages')
      .values({
        conversation_id: conversationId,
        channel_id: context.channelId,
        direction: 'outbound',
        author: 'agent',
        author_user_id: viewer.id,
        kind,
        text,
        content: JSON.stringify(content),
        status: 'pending',
        idempotency_key: key ?? null,
        occurred_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (const file of files) {
      await trx
        .insertInto('attachments')
        .values({
          message_id: message.id,
          kind: attachmentKind(file.content_type),
          content_type: file.content_type,
          file_name: file.file_name,
          size: file.size,
          storage_key: file.storage_key,
          state: 'stored',
          source: JSON.stringify({ upload: file.id }),
        })
        .execute();
    }
    await queueDelivery(trx, conversationId, message.id);
    await trx.updateTable('conversations').set({ last_message_at: sql`greatest(last_message_at, ${now})`, updated_at: sql`now()` }).where('id', '=', conversationId).execute();
    const change: ConversationChange = { conversationId, messageId: message.id, change: 'message' };
    await notifier.notify(trx, CONVERSATION_EVENTS, JSON.stringify(change));
    return message.id;
  }

  /**
   * Accepts a message for delivery. With a key, the same request made again (a double click, a
   * client retry) returns the message the first one created instead of sending twice.
   */
  async function send(viewer: Viewer, conversationId: string, input: SendInput, key?: string): Promise<{ message: MessageView; replayed: boolean }> {
    if (!(await mayHandleConversation(db, viewer, conversationId))) throw notAllowed('this conversation is not yours to answer');
    if (key) {
      const existing = await byKey(conversationId, key);
      if (existing) return { message: existing, replayed: true };
    }
    try {
      const id = await db.transaction().execute((trx) => store(trx, viewer, conversationId, input, key));
      return { message: await getMessage(db, id), replayed: false };
    } catch (error) {
      // two requests with the same key at once: the second lost the race to the unique index
      if (key && isUniqueViolation(error)) {
        const existing = await byKey(conversationId, key);
        if (existing) return { message: existing, replayed: true };
      }
      throw error;
    }
  }

  /** An agent's file, kept until it is sent; only for conversations that accept agent attachments. */
  async function upload(
    viewer: Viewer,
    conversationId: string,
    file: { bytes: Buffer; contentType: string; fileName?: string },
    put: (key: string, bytes: Buffer) => Promise<void>,
  ): Promise<{ id: string; contentType: string; fileName: string | null; size: number; kind: string }> {
    if (!(await mayHandleConversation(db, viewer, conversationId))) throw notAllowed('this conversation is not yours to answer');
    const context = await conversationContext(db, conversationId);
    if (!context.agentAttachments) throw notAllowed('agents may not send attachments in this workstream');
    if (file.bytes.length === 0) throw invalid('body', 'the file is empty');
    const contentType = file.contentType.split(';')[0]!.trim().toLowerCase();
    if (!/^[a-z]+\/[\w.+-]+$/.test(contentType)) throw invalid('content-type', 'send the file’s media type, e.g. image/png');
    const storageKey = `outbound/${conversationId}/${crypto.randomUUID()}`;
    await put(storageKey, file.bytes);
    const row = await db
      .insertInto('uploads')
      .values({ conversation_id: conversationId, uploaded_by: viewer.id, storage_key: storageKey, content_type: contentType, file_name: file.fileName ?? null, size: file.bytes.length })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: row.id, contentType, fileName: file.fileName ?? null, size: file.bytes.length, kind: attachmentKind(contentType) };
  }

  return { send, sessionWindowOf, upload };
}

export type Replies = ReturnType<typeof createReplies>;
