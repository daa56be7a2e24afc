import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.ts';

/**
 * Webhook diagnostics per channel: accepted and rejected counts per minute, the last webhook
 * and the last signature failure with its reason. Counted in memory and flushed every few
 * seconds (one upsert per channel), so neither a busy channel nor a flood of forged requests
 * turns into a write per request.
 */
interface Tally {
  accepted: number;
  rejected: number;
  lastAcceptedAt?: Date;
  lastFailure?: { at: Date; reason: string };
}

export interface WebhookDiagnostics {
  lastWebhookAt: Date | null;
  lastSignatureFailure: { at: Date; reason: string } | null;
  lastHour: { accepted: number; rejected: number };
}

const minuteOf = (date: Date) => new Date(Math.floor(date.getTime() / 60_000) * 60_000);

export function createWebhookStats(db: Kysely<DB>, flushEveryMs = 2000) {
  let tallies = new Map<string, Tally>();
  let timer: NodeJS.Timeout | undefined;

  const tally = (channelId: string): Tally => {
    let t = tallies.get(channelId);
    if (!t) tallies.set(channelId, (t = { accepted: 0, rejected: 0 }));
    return t;
  };

  async function flush(): Promise<void> {
    if (tallies.size === 0) return;
    const current = tallies;
    tallies = new Map();
    const minute = minuteOf(new Date());
    for (const [channelId, t] of current) {
      await db
        .insertInto('webhook_stats')
        .values({ channel_id: channelId, minute, accepted: t.accepted, rejected: t.rejected })
        .onConflict((oc) =>
          oc.columns(['channel_id', 'minute']).doUpdateSet({
            accepted: sql`webhook_stats.accepted + excluded.accepted`,
            rejected: sql`webhook_stats.rejected + excluded.rejected`,
          }),
        )
        .execute();
      if (t.lastAcceptedAt || t.lastFailure) {
        await db
          .updateTable('channel_instances')
          .set({
            ...(t.lastAcceptedAt ? { last_webhook_at: sql`greatest(last_webhook_at, ${t.lastAcceptedAt})` } : {}),
            ...(t.lastFailure ? { last_signature_failure_at: t.lastFailure.at, last_signature_failure_reason: t.lastFailure.reason } : {}),
          })
          .where('id', '=', channelId)
          .execute();
      }
    }
  }

  return {
    accepted(channelId: string): void {
      const t = tally(channelId);
      t.accepted += 1;
      t.lastAcceptedAt = new Date();
    },
    rejected(channelId: string, reason: string): void {
      const t = tally(channelId);
      t.rejected += 1;
      t.lastFailure = { at: new Date(), reason };
    },
    flush,
    start(onError: (error: Error) => void): void {
      timer = setInterval(() => void flush().catch(onError), flushEveryMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await flush();
    },
    async read(channelId: string): Promise<WebhookDiagnostics> {
      const [channel, counts] = await Promise.all([
        db.selectFrom('channel_instances').select(['last_webhook_at', 'last_signature_failure_at', 'last_signature_failure_reason']).where('id', '=', channelId).executeTakeFirst(),
        db
          .selectFrom('webhook_stats')
          .select([sql<number>`coalesce(sum(accepted), 0)::int`.as('accepted'), sql<number>`coalesce(sum(rejected), 0)::int`.as('rejected')])
          .where('channel_id', '=', channelId)
          .where('minute', '>=', sql<Date>`now() - interval '1 hour'`)
          .executeTakeFirst(),
      ]);
      const pending = tallies.get(channelId);
      return {
        lastWebhookAt: pending?.lastAcceptedAt ?? channel?.last_webhook_at ?? null,
        lastSignatureFailure: pending?.lastFailure ?? (channel?.last_signature_failure_at ? { at: channel.last_signature_failure_at, reason: channel.last_signature_failure_reason ?? '' } : null),
        lastHour: { accepted: (counts?.accepted ?? 0) + (pending?.accepted ?? 0), rejected: (counts?.rejected ?? 0) + (pending?.rejected ?? 0) },
      };
    },
  };
}

export type WebhookStats = ReturnType<typeof createWebhookStats>;
