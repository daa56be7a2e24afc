import { sql, type Kysely } from 'kysely';
import type { Notifier } from '../../db/notifier.ts';
import type { DB } from '../../db/schema.ts';
import { enqueue } from '../../jobs/queue.ts';
import { classify, type ConversationFacts } from './classify.ts';
import { lockConversation } from './claim.ts';
import { enterQueue } from './queueing.ts';
import { recordTransition, ROUTING_ACTOR } from './records.ts';

/**
 * Classification of a new conversation: gathers the facts, runs the channel's workstream rules
 * and puts the conversation in the chosen queue. Runs as a job enqueued in the transaction that
 * opened the conversation, so no conversation is ever forgotten.
 */
export const ROUTE_QUEUE = 'routing.route';

export async function requestRouting(trx: Kysely<DB>, conversationId: string): Promise<void> {
  await enqueue(trx, { queue: ROUTE_QUEUE, payload: { conversationId }, singletonKey: `route:${conversationId}`, maxAttempts: 5 });
}

async function factsOf(trx: Kysely<DB>, conversationId: string, fallbackLanguage: string | null): Promise<ConversationFacts> {
  const row = await trx
    .selectFrom('conversations as c')
    .innerJoin('channel_instances as ch', 'ch.id', 'c.channel_id')
    .innerJoin('social_profiles as p', 'p.id', 'c.social_profile_id')
    .leftJoin('contacts as k', 'k.id', 'c.contact_id')
    .select(['ch.provider', 'ch.id as channel_id', 'p.locale', 'p.display_name', 'c.contact_id', 'k.name', 'k.email', 'k.phone', 'k.company', 'k.fields'])
    .where('c.id', '=', conversationId)
    .executeTakeFirstOrThrow();
  const first = await trx
    .selectFrom('messages')
    .select('text')
    .where('conversation_id', '=', conversationId)
    .where('author', '=', 'customer')
    .orderBy('occurred_at')
    .orderBy('created_at')
    .limit(1)
    .executeTakeFirst();
  // a locale like en_US or pt-BR gives the language
  const language = row.locale ? row.locale.split(/[-_]/)[0]!.toLowerCase() : fallbackLanguage;
  return {
    channel: row.provider,
    channelInstance: row.channel_id,
    language,
    contactLinked: row.contact_id !== null,
    customer: { displayName: row.display_name, ...(row.fields ?? {}), name: row.name, email: row.email, phone: row.phone, company: row.company },
    firstMessage: first?.text ?? null,
  };
}

export async function routeConversation(db: Kysely<DB>, notifier: Notifier, conversationId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const conversation = await lockConversation(trx, conversationId);
    if (!conversation || conversation.state !== 'open' || conversation.queue_id) return;
    const workstream = await trx
      .selectFrom('workstreams as w')
      .innerJoin('channel_instances as ch', 'ch.workstream_id', 'w.id')
      .innerJoin('conversations as c', 'c.channel_id', 'ch.id')
      .selectAll('w')
      .where('c.id', '=', conversationId)
      .executeTakeFirst();
    if (!workstream) return; // a channel in no workstream is not distributed
    const rules = await trx.selectFrom('routing_rules').selectAll().where('workstream_id', '=', workstream.id).orderBy('position').execute();
    const facts = await factsOf(trx, conversationId, workstream.language);
    const result = classify(
      rules.map((r) => ({ id: r.id, enabled: r.enabled, match: r.match, conditions: r.conditions, queueId: r.queue_id, skills: r.skills, priority: r.priority })),
      facts,
      workstream.default_queue_id,
    );
    await trx
      .updateTable('conversations')
      .set({ workstream_id: workstream.id, priority: result.priority, required_skills: JSON.stringify(result.skills), classified_at: sql`now()`, waiting_since: sql`opened_at` })
      .where('id', '=', conversationId)
      .execute();
    await recordTransition(trx, { conversationId, kind: 'classified', actor: ROUTING_ACTOR, queueId: result.queueId, reason: result.ruleId ? 'rule' : 'default', details: { ruleId: result.ruleId, skills: result.skills, priority: result.priority } });
    if (!result.queueId) return;
    await enterQueue(trx, notifier, { conversationId, queueId: result.queueId, workstream, actor: ROUTING_ACTOR, reason: 'new', from: 'open', keepWaitStart: true });
  });
}
