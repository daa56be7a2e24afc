import type { Kysely } from 'kysely';
import type { ChannelStatus, DB } from '../../db/schema.ts';
import { audit, type Actor } from '../audit/log.ts';
import { announceChannelChange } from './directory.ts';

/**
 * Where a channel instance's provisioning status is written: by the checks that follow a save,
 * by the periodic re-check, and by any code whose provider call was refused for its credentials.
 * A change of status is audited (with the system as actor when no admin asked for it).
 */
export interface StatusOutcome {
  status: Exclude<ChannelStatus, 'pending'>;
  reason: string | null;
  /** The provider's error code, or one of ours (public_url_missing, check_failed). */
  code: string | null;
  /** Undefined keeps the steps already stored. */
  manualSteps?: string[];
}

export const CHANNEL_CHECK_ACTOR: Actor = { userId: null, label: 'channel check' };

/** Stores an outcome in one transaction; returns false when the channel is gone (deleted meanwhile). */
export async function recordStatus(db: Kysely<DB>, channelId: string, outcome: StatusOutcome, actor: Actor = CHANNEL_CHECK_ACTOR): Promise<boolean> {
  return db.transaction().execute((trx) => writeStatus(trx, channelId, outcome, actor));
}

async function writeStatus(executor: Kysely<DB>, channelId: string, outcome: StatusOutcome, actor: Actor): Promise<boolean> {
  const current = await executor
    .selectFrom('channel_instances')
    .select(['status', 'status_code', 'provider'])
    .where('id', '=', channelId)
    .where('deleted_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
  if (!current) return false;
  const now = new Date();
  const changed = current.status !== outcome.status;
  await executor
    .updateTable('channel_instances')
    .set({
      status: outcome.status,
      status_reason: outcome.reason,
      status_code: outcome.code,
      checked_at: now,
      ...(outcome.manualSteps ? { manual_steps: JSON.stringify(outcome.manualSteps) } : {}),
      ...(changed ? { status_changed_at: now } : {}),
    })
    .where('id', '=', channelId)
    .execute();
  if (changed || current.status_code !== outcome.code) {
    await audit(executor, {
      actor,
      action: 'channel.status_changed',
      target: { type: 'channel_instance', id: channelId },
      details: { from: current.status, to: outcome.status, reason: outcome.reason, code: outcome.code },
    });
  }
  await announceChannelChange(executor, channelId);
  return true;
}

/**
 * Flags a channel instance when a provider refused its credentials during other work (a send,
 * a media download): call it with the executor at hand, inside its transaction or not. The
 * periodic re-check sets the channel running again once the admin has fixed it.
 */
export async function markNeedsAttention(executor: Kysely<DB>, channelId: string, reason: string | { message: string; code?: string }): Promise<void> {
  const { message, code } = typeof reason === 'string' ? { message: reason, code: undefined } : reason;
  const outcome: StatusOutcome = { status: 'needs_attention', reason: message, code: code ?? null };
  if (executor.isTransaction) await writeStatus(executor, channelId, outcome, CHANNEL_CHECK_ACTOR);
  else await recordStatus(executor, channelId, outcome);
}

/** The last check was only a moment ago: nothing to write but the time. */
export async function touchChecked(db: Kysely<DB>, channelId: string): Promise<void> {
  await db.updateTable('channel_instances').set({ checked_at: new Date() }).where('id', '=', channelId).execute();
}
