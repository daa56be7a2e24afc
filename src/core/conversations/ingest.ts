import { sql, type Kysely, type Transaction } from 'kysely';
import type { Notifier } from '../../db/notifier.ts';
import type { DB, MessageStatus, Provider } from '../../db/schema.ts';
import { enqueue } from '../../jobs/queue.ts';
import { RetryLater, type BatchHandler } from '../../jobs/runner.ts';
import type { EchoEvent, InboundContent, InboundEvent, LifecycleEvent, MessageEvent, StatusEvent, UnsupportedEvent } from '../../providers/types.ts';

/**
 * Applies one stored inbox event to the domain: social profile → conversation (continued or
 * opened) → message, attachments and receipts. Runs as the `inbound` job; events of one
 * customer on one channel run one at a time in provider-timestamp order (their job group).
 * Every step is idempotent, so a retried job changes nothing twice.
 */
export const MEDIA_QUEUE = 'media.fetch';
export const PROFILE_QUEUE = 'profile.fetch';
/** Announced after commit: `{conversationId, messageId?, change}`; realtime and routing listen. */
export const CONVERSATION_EVENTS = 'parley_conversations';

export interface IngestPolicy {
  /** Whether customers may send attachments on this channel (per workstream). */
  customerAttachmentsAllowed(trx: Kysely<DB>, channelId: string): Promise<boolean>;
}

type Trx = Transaction<DB>;

export interface IngestHooks {
  /** In the transaction that opened the conversation (routing enqueues its classification). */
  conversationOpened?(trx: Kysely<DB>, conversationId: string): Promise<void>;
  /** In the transaction that stored a new customer message (routing: a conversation waiting for the customer is active again). */
  customerWrote?(trx: Kysely<DB>, conversationId: string): Promise<void>;
}

export interface ConversationChange {
  conversationId: string;
  messageId?: string;
  change: 'opened' | 'message' | 'status';
}

const STATUS_RANK: Record<MessageStatus, number> = { received: 0, pending: 0, sent: 1, delivered: 2, read: 3, failed: 1 };

export function kindOf(content: InboundContent): string {
  if (content.payload) return 'payload';
  if (content.location) return 'location';
  if (content.sticker) return 'sticker';
  const first = content.attachments[0];
  if (first) return content.attachments.every((a) => a.kind === first.kind) ? first.kind : 'mixed';
  return 'text';
}

function textOf(content: InboundContent): string | null {
  return content.text ?? content.payload?.title ?? content.payload?.value ?? content.location?.title ?? null;
}

async function announce(notifier: Notifier, trx: Kysely<DB>, change: ConversationChange): Promise<void> {
  await notifier.notify(trx, CONVERSATION_EVENTS, JSON.stringify(change));
}

async function profileFor(trx: Trx, channelId: string, provider: Provider, customerId: string, displayName?: string) {
  const row = await trx
    .insertInto('social_profiles')
    .values({ channel_id: channelId, provider, provider_user_id: customerId, display_name: displayName ?? null })
    .onConflict((oc) =>
      oc.columns(['channel_id', 'provider_user_id']).doUpdateSet({
        display_name: sql`coalesce(excluded.display_name, social_profiles.display_name)`,
        updated_at: sql`now()`,
      }),
    )
    .returning(['id', 'contact_id', 'display_name', 'profile_checked_at'])
    .executeTakeFirstOrThrow();
  return row;
}

/** The customer's open conversation on this channel, or a new one linked to their contact. */
async function openConversation(trx: Trx, notifier: Notifier, hooks: IngestHooks, channelId: string, profile: { id: string; contact_id: string | null }): Promise<string> {
  const open = await trx.selectFrom('conversations').select('id').where('social_profile_id', '=', profile.id).where('state', '<>', 'closed').forUpdate().executeTakeFirst();
  if (open) return open.id;
  const created = await trx
    .insertInto('conversations')
    .values({ channel_id: channelId, social_profile_id: profile.id, contact_id: profile.contact_id })
    .returning('id')
    .executeTakeFirstOrThrow();
  await hooks.conversationOpened?.(trx, created.id);
  await announce(notifier, trx, { conversationId: created.id, change: 'opened' });
  return created.id;
}

/** For page-side messages: the open conversation, else the latest one, else a closed record. */
async function conversationForEcho(trx: Trx, channelId: string, profile: { id: string; contact_id: string | null }): Promise<string> {
  const latest = await trx
    .selectFrom('conversations')
    .select('id')
    .where('social_profile_id', '=', profile.id)
    .orderBy(sql`state <> 'closed'`, 'desc')
    .orderBy('opened_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (latest) return latest.id;
  const created = await trx
    .insertInto('conversations')
    .values({ channel_id: channelId, social_profile_id: profile.id, contact_id: profile.contact_id, state: 'closed', closed_at: new Date() })
    .returning('id')
    .executeTakeFirstOrThrow();
  return created.id;
}

async function addMessage(
  trx: Kysely<DB>,
  values: {
    conversationId: string;
    channelId: string;
    direction: 'inbound' | 'outbound';
    author: 'customer' | 'page' | 'system';
    kind: string;
    text: string | null;
    content: Record<string, unknown>;
    raw: unknown;
    providerMessageId: string | null;
    status: MessageStatus;
    occurredAt: Date;
  },
): Promise<string | null> {
  const row = await trx
    .insertInto('messages')
    .values({
      conversation_id: values.conversationId,
      channel_id: values.channelId,
      direction: values.direction,
      author: values.author,
      kind: values.kind,
      text: values.text,
      content: JSON.stringify(values.content),
      raw: values.raw === undefined ? null : JSON.stringify(values.raw),
      provider_message_id: values.providerMessageId,
      status: values.status,
      occurred_at: values.occurredAt,
    })
    .onConflict((oc) => oc.columns(['channel_id', 'provider_message_id']).where('provider_message_id', 'is not', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id ?? null;
}

/** A line in the conversation from Parley itself (not sent to the customer), announced to listeners. */
export async function recordNotice(
  executor: Kysely<DB>,
  notifier: Notifier,
  notice: { conversationId: string; channelId: string; code: string; text: string; occurredAt: Date },
): Promise<void> {
  const { conversationId, channelId, code, text, occurredAt } = notice;
  const id = await addMessage(executor, {
    conversationId, channelId, direction: 'inbound', author: 'system', kind: 'notice', text,
    content: { notice: code }, raw: undefined, providerMessageId: null, status: 'received', occurredAt,
  });
  if (id) await announce(notifier, executor, { conversationId, messageId: id, change: 'message' });
}

/** How many inbox events are applied per transaction. */
export const INGEST_BATCH = 32;

export function createIngest(deps: { db: Kysely<DB>; notifier: Notifier; policy: IngestPolicy; hooks?: IngestHooks }) {
  const { db, notifier, policy } = deps;
  const hooks = deps.hooks ?? {};
  const notice = (trx: Trx, conversationId: string, channelId: string, code: string, text: string, occurredAt: Date) =>
    recordNotice(trx, notifier, { conversationId, channelId, code, text, occurredAt });

  async function applyMessage(trx: Trx, channelId: string, provider: Provider, event: MessageEvent): Promise<void> {
    const profile = await profileFor(trx, channelId, provider, event.customerId, event.customerName);
    const conversationId = await openConversation(trx, notifier, hooks, channelId, profile);
    const occurredAt = new Date(event.timestamp);
    const allowed = event.content.attachments.length === 0 || (await policy.customerAttachmentsAllowed(trx, channelId));
    const content: Record<string, unknown> = { ...event.content, attachments: undefined };
    if (event.standby) content.standby = true;
    const kind = kindOf(event.content);
    const messageId = await addMessage(trx, {
      conversationId, channelId, direction: 'inbound', author: 'customer', kind,
      text: textOf(event.content), content, raw: event.raw, providerMessageId: event.providerMessageId, status: 'received', occurredAt,
    });
    if (!messageId) return; // the same provider message arrived under another key: already applied

    for (const ref of event.content.attachments) {
      const attachment = await trx
        .insertInto('attachments')
        .values({
          message_id: messageId,
          kind: ref.kind,
          content_type: ref.contentType ?? null,
          file_name: allowed ? ref.fileName ?? null : null,
          size: ref.size ?? null,
          state: allowed ? 'pending' : 'blocked',
          // a refused file is neither fetched nor kept: no way back to it
          source: JSON.stringify(allowed ? ref : { kind: ref.kind }),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (allowed) await enqueue(trx, { queue: MEDIA_QUEUE, payload: { attachmentId: attachment.id }, maxAttempts: 8 });
    }
    if (!allowed) {
      const kinds = [...new Set(event.content.attachments.map((a) => a.kind))].join(', ');
      await notice(trx, conversationId, channelId, 'attachment_blocked', `The customer tried to send an attachment (${kinds}), which this channel does not accept. It was not received.`, occurredAt);
    }

    await trx
      .updateTable('conversations')
      .set({
        last_customer_message_at: sql`greatest(last_customer_message_at, ${occurredAt})`,
        last_message_at: sql`greatest(last_message_at, ${occurredAt})`,
        ...(event.replyToken ? { reply_token: event.replyToken, reply_token_at: sql`now()` } : {}),
        updated_at: sql`now()`,
      })
      .where('id', '=', conversationId)
      .execute();

    const staleProfile = !profile.display_name && (!profile.profile_checked_at || Date.now() - profile.profile_checked_at.getTime() > 86_400_000);
    if (staleProfile) await enqueue(trx, { queue: PROFILE_QUEUE, payload: { profileId: profile.id }, singletonKey: `profile:${profile.id}`, maxAttempts: 3 });
    await hooks.customerWrote?.(trx, conversationId);
    await announce(notifier, trx, { conversationId, messageId, change: 'message' });
  }

  async function applyEcho(trx: Trx, channelId: string, provider: Provider, event: EchoEvent): Promise<void> {
    // our own messages come back as echoes carrying our message id as metadata
    if (event.metadata && /^[0-9a-f-]{36}$/.test(event.metadata)) {
      const ours = await trx.selectFrom('messages').select('id').where('id', '=', event.metadata).executeTakeFirst();
      if (ours) return;
    }
    const profile = await profileFor(trx, channelId, provider, event.customerId);
    const conversationId = await conversationForEcho(trx, channelId, profile);
    const occurredAt = new Date(event.timestamp);
    const messageId = await addMessage(trx, {
      conversationId, channelId, direction: 'outbound', author: 'page', kind: kindOf(event.content),
      text: textOf(event.content), content: { ...event.content, appId: event.appId }, raw: event.raw,
      providerMessageId: event.providerMessageId, status: 'sent', occurredAt,
    });
    if (!messageId) return;
    await trx.updateTable('conversations').set({ last_message_at: sql`greatest(last_message_at, ${occurredAt})` }).where('id', '=', conversationId).execute();
    await announce(notifier, trx, { conversationId, messageId, change: 'message' });
  }

  /** Receipts only move a message forward (sent → delivered → read); `failed` only before delivery. */
  async function applyStatus(trx: Trx, channelId: string, event: StatusEvent, attempt: number): Promise<void> {
    const next = event.status;
    const lower = (Object.keys(STATUS_RANK) as MessageStatus[]).filter((s) =>
      next === 'failed' ? s === 'pending' || s === 'sent' : s !== 'failed' && s !== 'received' && STATUS_RANK[s] < STATUS_RANK[next],
    );
    let query = trx
      .updateTable('messages')
      .set({
        status: next,
        ...(event.error ? { error_code: event.error.code, error_message: event.error.message } : {}),
        updated_at: sql`now()`,
      })
      .where('channel_id', '=', channelId)
      .where('direction', '=', 'outbound')
      .where('status', 'in', lower);
    if (event.providerMessageId) {
      query = query.where('provider_message_id', '=', event.providerMessageId);
    } else if (event.watermark !== undefined) {
      // a watermark covers what was handed to the provider before it, never what is still queued
      query = query
        .where('status', '<>', 'pending')
        .where('occurred_at', '<=', new Date(event.watermark))
        .where('conversation_id', 'in', (eb) =>
          eb.selectFrom('conversations as c').innerJoin('social_profiles as p', 'p.id', 'c.social_profile_id').select('c.id').where('p.channel_id', '=', channelId).where('p.provider_user_id', '=', event.customerId),
        );
    } else {
      return;
    }
    const rows = await query.returning(['id', 'conversation_id']).execute();
    if (rows.length === 0 && event.providerMessageId) {
      // a receipt can overtake the record of the send it is about: look again shortly
      const known = await trx.selectFrom('messages').select('id').where('channel_id', '=', channelId).where('provider_message_id', '=', event.providerMessageId).executeTakeFirst();
      if (!known && attempt < 5) throw new RetryLater(`no message with provider id ${event.providerMessageId} yet`, 1000 * attempt);
    }
    for (const row of rows) await announce(notifier, trx, { conversationId: row.conversation_id, messageId: row.id, change: 'status' });
  }

  async function applyLifecycle(trx: Trx, channelId: string, event: LifecycleEvent): Promise<void> {
    const open = await trx
      .selectFrom('conversations as c')
      .innerJoin('social_profiles as p', 'p.id', 'c.social_profile_id')
      .select('c.id')
      .where('p.channel_id', '=', channelId)
      .where('p.provider_user_id', '=', event.customerId)
      .where('c.state', '<>', 'closed')
      .executeTakeFirst();
    if (!open) return;
    const text = event.change === 'unfollow' ? 'The customer blocked or unfollowed the account: messages to them will not arrive.' : 'The customer followed the account again.';
    await notice(trx, open.id, channelId, event.change, text, new Date(event.timestamp));
  }

  async function applyUnsupported(trx: Trx, channelId: string, provider: Provider, event: UnsupportedEvent): Promise<void> {
    if (!event.customerId) return; // nothing to show it with; the inbox keeps the raw payload
    const profile = await profileFor(trx, channelId, provider, event.customerId);
    const conversationId = await openConversation(trx, notifier, hooks, channelId, profile);
    const occurredAt = new Date(event.timestamp);
    const messageId = await addMessage(trx, {
      conversationId, channelId, direction: 'inbound', author: 'customer', kind: 'unsupported',
      text: `Unsupported message (${event.reason})`, content: { reason: event.reason }, raw: event.raw,
      providerMessageId: null, status: 'received', occurredAt,
    });
    if (!messageId) return;
    // content we cannot show is still the customer answering
    await hooks.customerWrote?.(trx, conversationId);
    await announce(notifier, trx, { conversationId, messageId, change: 'message' });
  }

  type InboxRow = { id: number; channel_id: string; event: unknown; provider: Provider };

  /** The unprocessed inbox rows behind a batch of jobs, in one query. */
  async function pending(trx: Trx, jobs: { payload: unknown }[]): Promise<Map<number, InboxRow>> {
    const ids = jobs.map((job) => (job.payload as { inboxId: number }).inboxId);
    const rows = await trx
      .selectFrom('inbox_events as i')
      .innerJoin('channel_instances as c', 'c.id', 'i.channel_id')
      .select(['i.id', 'i.channel_id', 'i.event', 'c.provider'])
      .where('i.id', 'in', ids)
      .where('i.processed_at', 'is', null)
      .execute();
    return new Map(rows.map((row) => [row.id, row]));
  }

  function apply(trx: Trx, row: InboxRow, attempt: number): Promise<void> {
    const event = row.event as InboundEvent;
    switch (event.type) {
      case 'message':
        return applyMessage(trx, row.channel_id, row.provider, event);
      case 'echo':
        return applyEcho(trx, row.channel_id, row.provider, event);
      case 'status':
        return applyStatus(trx, row.channel_id, event, attempt);
      case 'lifecycle':
        return applyLifecycle(trx, row.channel_id, event);
      case 'unsupported':
        return applyUnsupported(trx, row.channel_id, row.provider, event);
    }
  }

  type Job = Parameters<BatchHandler>[0][number];

  /** Applies the batch; with `isolate`, each event in its own savepoint so one failure stays its own. */
  async function run(jobs: Job[], complete: Parameters<BatchHandler>[1], isolate: boolean): Promise<Map<number, Error>> {
    const failures = new Map<number, Error>();
    await db.transaction().execute(async (trx) => {
      const rows = await pending(trx, jobs);
      const done: Job[] = [];
      for (const job of jobs) {
        const row = rows.get((job.payload as { inboxId: number }).inboxId);
        if (!row) {
          done.push(job); // applied before (a replay, or a retry after a lost answer)
          continue;
        }
        if (!isolate) {
          await apply(trx, row, job.attempts);
          done.push(job);
          continue;
        }
        await sql`SAVEPOINT event`.execute(trx);
        try {
          await apply(trx, row, job.attempts);
          await sql`RELEASE SAVEPOINT event`.execute(trx);
          done.push(job);
        } catch (error) {
          await sql`ROLLBACK TO SAVEPOINT event`.execute(trx);
          failures.set(job.id, error as Error);
        }
      }
      if (done.length === 0) return;
      const ids = done.map((job) => (job.payload as { inboxId: number }).inboxId);
      await trx.updateTable('inbox_events').set({ processed_at: sql`now()` }).where('id', 'in', ids).where('processed_at', 'is', null).execute();
      await complete(trx, done);
    });
    return failures;
  }

  /**
   * Applies a batch of events (distinct customers: a customer's events are never claimed
   * together) in one transaction. Most batches succeed whole; when one event fails, the batch
   * runs again with a savepoint per event, so that event is retried alone and the others commit.
   */
  const handler: BatchHandler = async (jobs, complete) => {
    try {
      return await run(jobs, complete, false);
    } catch {
      return run(jobs, complete, true);
    }
  };
  return { handler };
}

/** The channel's workstream decides; a channel in no workstream accepts attachments. */
export const channelAttachmentPolicy: IngestPolicy = {
  async customerAttachmentsAllowed(trx, channelId) {
    const row = await trx
      .selectFrom('channel_instances as c')
      .leftJoin('workstreams as w', 'w.id', 'c.workstream_id')
      .select('w.customer_attachments')
      .where('c.id', '=', channelId)
      .executeTakeFirst();
    return row?.customer_attachments ?? true;
  },
};
