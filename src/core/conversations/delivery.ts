import { sql, type Kysely } from 'kysely';
import type { Notifier } from '../../db/notifier.ts';
import type { DB } from '../../db/schema.ts';
import { backoffMs, RetryLater, type JobHandler } from '../../jobs/runner.ts';
import { ProviderError, type DeliveryErrorClass, type OutboundMessage, type ProviderAdapter, type ProviderId, type SendResult } from '../../providers/types.ts';
import type { SecretBox } from '../../secrets.ts';
import { markNeedsAttention } from '../channels/index.ts';
import { channelCredentials, type ChannelDirectory } from '../channels/directory.ts';
import { webhookUrls } from '../channels/store.ts';
import { CONVERSATION_EVENTS, recordNotice, type ConversationChange } from './ingest.ts';
import type { MediaLinks } from './media-links.ts';
import { takeSendToken } from './rate-limit.ts';
import { permits } from './session-window.ts';
import { conversationContext, windowOf, type ConversationContext } from './window-context.ts';

/**
 * The `outbound` job: one pending message to its provider. The window is asked again (the
 * message may have waited), the sender's rate bucket is drawn from, the channel's secrets are
 * opened for this call only, and the outcome is recorded: `sent` with the provider's ids, a
 * retry later for what may pass (5xx, timeouts, rate limits), or `failed` with the provider's
 * code and an explanation an agent can act on. Jobs of one conversation run in order, so a
 * retried message holds back the ones written after it.
 */
export const MAX_DELIVERY_ATTEMPTS = 8;

const EXPLANATIONS: Record<DeliveryErrorClass, string> = {
  auth: 'The provider refused this channel’s credentials (expired or revoked token). The channel needs attention: an administrator must reconnect it.',
  window_closed: 'The provider refused the message because the messaging window is closed.',
  recipient_unavailable: 'The customer cannot receive messages on this channel (blocked the account, unreachable or unknown).',
  rate_limited: 'The provider kept refusing for too many messages at once.',
  invalid_request: 'The provider refused the message as invalid.',
  thread_owned_elsewhere: 'Another app controls this Messenger conversation (handover protocol): Parley cannot reply until the conversation is passed back to it.',
  transient: 'The provider could not be reached or failed on its side.',
};

export interface DeliveryDeps {
  db: Kysely<DB>;
  notifier: Notifier;
  directory: ChannelDirectory;
  adapters: { get(provider: ProviderId): ProviderAdapter };
  secrets: SecretBox;
  links: MediaLinks | null;
  publicUrl: string | undefined;
  now(): Date;
}

interface Pending {
  id: string;
  conversation_id: string;
  author: string;
  text: string | null;
  content: Record<string, unknown>;
  attempts: number;
}

export function createDelivery(deps: DeliveryDeps) {
  const { db, notifier } = deps;

  async function announce(executor: Kysely<DB>, message: Pending): Promise<void> {
    const change: ConversationChange = { conversationId: message.conversation_id, messageId: message.id, change: 'status' };
    await notifier.notify(executor, CONVERSATION_EVENTS, JSON.stringify(change));
  }

  async function fail(message: Pending, context: ConversationContext, code: string, explanation: string, auth?: { message: string; code: string }): Promise<void> {
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('messages')
        .set({ status: 'failed', error_code: code, error_message: explanation, attempts: sql`attempts + 1`, updated_at: sql`now()` })
        .where('id', '=', message.id)
        .where('status', '=', 'pending')
        .execute();
      if (auth) await markNeedsAttention(trx, context.channelId, auth);
      await announce(trx, message);
    });
  }

  async function attachmentsOf(message: Pending): Promise<OutboundMessage['attachments']> {
    const rows = await db.selectFrom('attachments').select(['id', 'kind', 'content_type', 'file_name', 'size']).where('message_id', '=', message.id).orderBy('created_at').orderBy('id').execute();
    if (rows.length === 0) return undefined;
    const links = deps.links;
    if (!links) throw new Error('no public URL');
    return rows.map((a) => ({
      kind: a.kind as 'image' | 'video' | 'audio' | 'file',
      url: links.url(a.id),
      contentType: a.content_type ?? 'application/octet-stream',
      ...(a.file_name ? { fileName: a.file_name } : {}),
      ...(a.size !== null ? { size: a.size } : {}),
    }));
  }

  /** LINE's free reply token while it is still valid; it is single-use, so a used one is cleared. */
  function replyTokenOf(context: ConversationContext, ttlMs: number | undefined, now: Date): string | undefined {
    if (!context.replyToken || !context.replyTokenAt || ttlMs === undefined) return undefined;
    return now.getTime() - context.replyTokenAt.getTime() < ttlMs ? context.replyToken : undefined;
  }

  /**
   * A human agent's reply to a Messenger thread another app controls (handover protocol) takes
   * control once and is sent again; bot and system messages leave the thread where it is.
   */
  async function sendTakingControl(adapter: ProviderAdapter, outbound: OutboundMessage, credentials: never, context: ConversationContext, sender: string): Promise<SendResult> {
    try {
      return await adapter.send(outbound, credentials);
    } catch (caught) {
      if (!(caught instanceof ProviderError) || caught.errorClass !== 'thread_owned_elsewhere' || sender !== 'agent' || !adapter.takeThreadControl) throw caught;
      try {
        await adapter.takeThreadControl(context.customerId, credentials);
      } catch (taking) {
        const reason = taking instanceof ProviderError ? taking.info.message : String(taking);
        throw new ProviderError(caught.provider, caught.errorClass, { ...caught.info, message: `${caught.info.message}; taking control of the thread failed: ${reason}` }, caught.httpStatus);
      }
      await recordNotice(db, notifier, {
        conversationId: context.id,
        channelId: context.channelId,
        code: 'thread_control_taken',
        text: 'Parley took control of the Messenger thread from another app.',
        occurredAt: deps.now(),
      });
      return adapter.send(outbound, credentials);
    }
  }

  const handler: JobHandler = async (job) => {
    const { messageId } = job.payload as { messageId: string };
    const message = await db.selectFrom('messages').select(['id', 'conversation_id', 'author', 'text', 'content', 'attempts', 'status']).where('id', '=', messageId).executeTakeFirst();
    if (!message || message.status !== 'pending') return; // done already: a repeated job changes nothing
    const context = await conversationContext(db, message.conversation_id);
    const adapter = deps.adapters.get(context.provider);
    const now = deps.now();

    const sender = message.author === 'agent' ? 'agent' : message.author === 'bot' ? 'bot' : 'system';
    const template = message.content.template as { providerTemplateId: string; variables: Record<string, string> } | undefined;
    const window = windowOf(context, adapter.capabilities, sender, now);
    if (!permits(window, template ? 'template' : 'free-form')) {
      return fail(message, context, 'window_closed', `Not sent: ${window.reason}`);
    }
    const channel = await deps.directory.byId(context.channelId);
    if (!channel || channel.deleted) return fail(message, context, 'channel_deleted', 'Not sent: the channel was deleted.');

    const token = await takeSendToken(db, `channel:${context.channelId}`, adapter.capabilities.sendsPerSecond);
    if (!token.ok) throw new RetryLater('sender rate limit: waiting for a send token', token.waitMs);

    let attachments: OutboundMessage['attachments'];
    try {
      attachments = await attachmentsOf(message);
    } catch {
      return fail(message, context, 'public_url_missing', 'Not sent: PUBLIC_URL is not set, so the provider cannot fetch the attachments.');
    }
    const replyToken = replyTokenOf(context, adapter.capabilities.replyTokenTtlMs, now);
    const outbound: OutboundMessage = {
      to: context.customerId,
      ...(template ? { template } : { text: message.text ?? undefined, attachments }),
      ...(window.facebookMode ? { facebookMode: window.facebookMode } : {}),
      ...(replyToken ? { replyToken } : {}),
      idempotencyKey: message.id,
      metadata: message.id,
      ...(deps.publicUrl ? { statusCallbackUrl: webhookUrls(deps.publicUrl, channel.provider, channel.webhookKey).statusCallbackUrl } : {}),
    };

    let result;
    try {
      result = await sendTakingControl(adapter, outbound, channelCredentials(channel, deps.secrets) as never, context, sender);
    } catch (caught) {
      const error = caught instanceof ProviderError
        ? caught
        : new ProviderError(context.provider, 'transient', { code: 'send_error', message: caught instanceof Error ? caught.message : String(caught) });
      const attempts = message.attempts + 1;
      if (error.retryable && attempts < MAX_DELIVERY_ATTEMPTS) {
        await db
          .updateTable('messages')
          .set({ attempts, error_code: error.info.code, error_message: `Retrying: ${error.info.message}`, updated_at: sql`now()` })
          .where('id', '=', message.id)
          .execute();
        throw new RetryLater(`delivery attempt ${attempts} failed: ${error.message}`, error.retryAfterMs ?? backoffMs(attempts));
      }
      const explanation = `${error.retryable ? `${EXPLANATIONS[error.errorClass]} Gave up after ${attempts} attempts.` : EXPLANATIONS[error.errorClass]} (${error.info.message})`;
      const code = error.info.subcode ? `${error.info.code}/${error.info.subcode}` : error.info.code;
      return fail(message, context, code, explanation, error.errorClass === 'auth' ? { message: explanation, code } : undefined);
    }

    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('messages')
        .set({
          // a receipt may have overtaken this record: only a pending message becomes `sent`
          status: sql`CASE WHEN status = 'pending' THEN 'sent' ELSE status END`,
          provider_message_id: result.providerMessageIds[0] ?? null,
          content: JSON.stringify({ ...message.content, providerMessageIds: result.providerMessageIds, ...(result.usedReplyToken !== undefined ? { usedReplyToken: result.usedReplyToken } : {}) }),
          sent_at: now,
          attempts: message.attempts + 1,
          error_code: null,
          error_message: null,
          updated_at: sql`now()`,
        })
        .where('id', '=', message.id)
        .execute();
      if (replyToken) {
        await trx.updateTable('conversations').set({ reply_token: null, reply_token_at: null }).where('id', '=', context.id).where('reply_token', '=', replyToken).execute();
      }
      await announce(trx, message);
    });
  };

  return { handler };
}
