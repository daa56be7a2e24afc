import type { Kysely } from 'kysely';
import type { ConversationState, DB, Provider } from '../../db/schema.ts';
import type { Capabilities } from '../../providers/types.ts';
import { notFound } from '../errors.ts';
import { sessionWindow, type SenderKind, type SessionWindow } from './session-window.ts';

/**
 * What the session window of a conversation depends on, read from the database in one query,
 * and the window itself: shared by the API that shows it, sending that checks it, and delivery
 * that checks it again right before calling the provider.
 */
export interface ConversationContext {
  id: string;
  state: ConversationState;
  channelId: string;
  provider: Provider;
  customerId: string;
  openedAt: Date;
  lastCustomerMessageAt: Date | null;
  replyToken: string | null;
  replyTokenAt: Date | null;
  workstreamId: string | null;
  agentAttachments: boolean;
  facebookHumanAgentTag: boolean;
  facebookTagEnabledAt: Date | null;
}

export async function conversationContext(executor: Kysely<DB>, conversationId: string): Promise<ConversationContext> {
  const row = await executor
    .selectFrom('conversations as c')
    .innerJoin('channel_instances as ch', 'ch.id', 'c.channel_id')
    .innerJoin('social_profiles as p', 'p.id', 'c.social_profile_id')
    .leftJoin('workstreams as w', 'w.id', 'ch.workstream_id')
    .select([
      'c.id', 'c.state', 'c.channel_id', 'ch.provider', 'p.provider_user_id', 'c.opened_at', 'c.last_customer_message_at',
      'c.reply_token', 'c.reply_token_at', 'ch.workstream_id', 'w.agent_attachments', 'w.facebook_human_agent_tag', 'w.facebook_tag_enabled_at',
    ])
    .where('c.id', '=', conversationId)
    .executeTakeFirst();
  if (!row) throw notFound('conversation');
  return {
    id: row.id,
    state: row.state,
    channelId: row.channel_id,
    provider: row.provider,
    customerId: row.provider_user_id,
    openedAt: row.opened_at,
    lastCustomerMessageAt: row.last_customer_message_at,
    replyToken: row.reply_token,
    replyTokenAt: row.reply_token_at,
    workstreamId: row.workstream_id,
    // a channel in no workstream keeps the defaults: agents may attach files, no tag
    agentAttachments: row.agent_attachments ?? true,
    facebookHumanAgentTag: row.facebook_human_agent_tag ?? false,
    facebookTagEnabledAt: row.facebook_tag_enabled_at ?? null,
  };
}

export function windowOf(context: ConversationContext, capabilities: Capabilities, sender: SenderKind, now: Date): SessionWindow {
  return sessionWindow({
    capabilities,
    provider: context.provider,
    lastCustomerMessageAt: context.lastCustomerMessageAt,
    conversationOpenedAt: context.openedAt,
    workstream: context.workstreamId ? { facebookHumanAgentTag: context.facebookHumanAgentTag, facebookTagEnabledAt: context.facebookTagEnabledAt } : null,
    sender,
    now,
  });
}
