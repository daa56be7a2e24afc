import { sql, type Kysely, type Selectable } from 'kysely';
import type { Notifier } from '../../db/notifier.ts';
import type { DB, OverflowAction, OverflowRule, QueuesTable, WorkstreamsTable } from '../../db/schema.ts';
import { enqueue } from '../../jobs/queue.ts';
import type { Actor } from '../audit/log.ts';
import { requestDispatch } from './claim.ts';
import { isOpen } from './hours.ts';
import { recordAutomatedMessage, recordTransition } from './records.ts';

/**
 * A conversation entering a queue's waiting list, and the overflow rules that may send it
 * elsewhere: when the queue is full, after minutes of waiting, outside operating hours.
 */
export const OVERFLOW_QUEUE = 'routing.overflow';
type Trx = Kysely<DB>;
export type Workstream = Selectable<WorkstreamsTable>;
export type Queue = Selectable<QueuesTable>;

// a chain of "move to queue" rules stops here, so two queues pointing at each other cannot loop
const MAX_MOVES = 3;

export function workstreamOpen(workstream: Workstream, at = new Date()): boolean {
  return isOpen({ hours: workstream.operating_hours, timeZone: workstream.time_zone, holidays: workstream.holidays }, at);
}

/** Outside hours the queue's own rule wins over the workstream's behaviour. */
export function outsideHoursAction(queue: Pick<Queue, 'overflow'>, workstream: Workstream): OverflowAction {
  return queue.overflow.find((r) => r.when === 'outside-hours')?.action ?? workstream.outside_hours_action;
}

export interface Entry {
  conversationId: string;
  queueId: string;
  workstream: Workstream;
  actor: Actor;
  reason: string;
  from: string;
  /** Keep the customer's place in FIFO order (overflow moves); otherwise they wait from now. */
  keepWaitStart?: boolean;
  note?: string | null;
}

export async function applyOverflowAction(trx: Trx, notifier: Notifier, action: OverflowAction, entry: Entry, moves: number): Promise<boolean> {
  if (action.type === 'send-message') {
    await recordAutomatedMessage(trx, notifier, entry.conversationId, action.text, entry.reason);
    return false;
  }
  if (action.type === 'move-to-queue' && action.queueId !== entry.queueId && moves < MAX_MOVES) {
    await enterQueue(trx, notifier, { ...entry, queueId: action.queueId, keepWaitStart: true, from: 'open' }, moves + 1);
    return true;
  }
  return false;
}

/**
 * Puts the (locked) conversation in the queue's waiting list as `open`, applies the "full" and
 * "outside operating hours" rules, schedules "after N minutes" rules and asks for a cycle.
 */
export async function enterQueue(trx: Trx, notifier: Notifier, entry: Entry, moves = 0): Promise<void> {
  const queue = await trx.selectFrom('queues').selectAll().where('id', '=', entry.queueId).executeTakeFirst();
  if (!queue) return;
  if (queue.max_size !== null) {
    const waiting = await trx.selectFrom('conversations').select(sql<number>`count(*)::int`.as('n')).where('queue_id', '=', queue.id).where('state', '=', 'open').where('id', '<>', entry.conversationId).executeTakeFirstOrThrow();
    const full = queue.overflow.find((r) => r.when === 'full');
    if (waiting.n >= queue.max_size && full && full.action.type === 'move-to-queue') {
      await recordTransition(trx, { conversationId: entry.conversationId, kind: 'overflow', actor: entry.actor, queueId: queue.id, reason: 'queue full' });
      if (await applyOverflowAction(trx, notifier, full.action, { ...entry, reason: 'queue-full' }, moves)) return;
    } else if (waiting.n >= queue.max_size && full) {
      await applyOverflowAction(trx, notifier, full.action, { ...entry, reason: 'queue-full' }, moves);
    }
  }
  const now = new Date();
  const updated = await trx
    .updateTable('conversations')
    .set({
      state: 'open',
      queue_id: queue.id,
      workstream_id: entry.workstream.id,
      assigned_user_id: null,
      held_capacity: 0,
      queued_at: now,
      waiting_since: entry.keepWaitStart ? sql`coalesce(waiting_since, ${now})` : now,
      updated_at: sql`now()`,
    })
    .where('id', '=', entry.conversationId)
    .returning('queued_at')
    .executeTakeFirstOrThrow();
  await recordTransition(trx, {
    conversationId: entry.conversationId, kind: 'queued', from: entry.from, to: 'open', actor: entry.actor, queueId: queue.id,
    reason: entry.reason, details: entry.note ? { note: entry.note } : {},
  });
  if (!workstreamOpen(entry.workstream)) {
    const action = outsideHoursAction(queue, entry.workstream);
    await recordTransition(trx, { conversationId: entry.conversationId, kind: 'outside-hours', actor: entry.actor, queueId: queue.id, reason: action.type });
    if (await applyOverflowAction(trx, notifier, action, { ...entry, queueId: queue.id, reason: 'outside-hours' }, moves)) return;
  }
  await scheduleWaitingRules(trx, entry.conversationId, queue.id, queue.overflow, updated.queued_at!);
  await requestDispatch(trx, [queue.id]);
}

async function scheduleWaitingRules(trx: Trx, conversationId: string, queueId: string, rules: OverflowRule[], queuedAt: Date): Promise<void> {
  for (const [index, rule] of rules.entries()) {
    if (rule.when !== 'waiting' || rule.afterMinutes === undefined) continue;
    await enqueue(trx, {
      queue: OVERFLOW_QUEUE,
      payload: { conversationId, queueId, queuedAt: queuedAt.toISOString(), rule: index },
      runAt: new Date(queuedAt.getTime() + rule.afterMinutes * 60_000),
      maxAttempts: 5,
    });
  }
}
