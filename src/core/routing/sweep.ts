import { sql, type Kysely } from 'kysely';
import type { Notifier } from '../../db/notifier.ts';
import type { DB } from '../../db/schema.ts';
import { lockConversation, requestDispatch } from './claim.ts';
import { ROUTING_ACTOR } from './records.ts';
import { closeLocked } from './work.ts';

/**
 * The recurring routing job, once across all instances: closes conversations whose customer has
 * been silent longer than their workstream allows (those waiting for the customer stay open when
 * the workstream says so), and starts a cycle on every queue with a waiting list — which is how
 * waiting conversations are served when operating hours begin.
 */
export const SWEEP_QUEUE = 'routing.sweep';
export const SWEEP_EVERY_MS = 30_000;

export async function autoCloseInactive(db: Kysely<DB>, notifier: Notifier): Promise<number> {
  const due = await db
    .selectFrom('conversations as c')
    .innerJoin('workstreams as w', 'w.id', 'c.workstream_id')
    .select('c.id')
    .where('c.state', '<>', 'closed')
    .where(sql<boolean>`coalesce(c.last_customer_message_at, c.opened_at) < now() - make_interval(hours => w.auto_close_hours)`)
    .where((eb) => eb.or([eb('c.state', '<>', 'waiting'), eb('w.keep_open_waiting', '=', false)]))
    .limit(500)
    .execute();
  let closed = 0;
  for (const { id } of due) {
    await db.transaction().execute(async (trx) => {
      const conversation = await lockConversation(trx, id);
      if (!conversation || conversation.state === 'closed') return;
      await closeLocked(trx, notifier, conversation, ROUTING_ACTOR, 'inactivity');
      closed++;
    });
  }
  return closed;
}

export async function sweep(db: Kysely<DB>, notifier: Notifier): Promise<void> {
  await autoCloseInactive(db, notifier);
  const queues = await db.selectFrom('conversations').select('queue_id').distinct().where('state', '=', 'open').where('queue_id', 'is not', null).execute();
  await db.transaction().execute((trx) => requestDispatch(trx, queues.map((q) => q.queue_id)));
}
