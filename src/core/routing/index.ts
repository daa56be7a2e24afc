import type { Kysely } from 'kysely';
import type { Notifier } from '../../db/notifier.ts';
import type { IngestHooks } from '../conversations/ingest.ts';
import type { DB } from '../../db/schema.ts';
import type { JobRunner } from '../../jobs/runner.ts';
import { DISPATCH_QUEUE, OFFER_TIMEOUT_QUEUE } from './claim.ts';
import { dispatchQueue } from './dispatch.ts';
import { OVERFLOW_QUEUE } from './queueing.ts';
import { requestRouting, ROUTE_QUEUE, routeConversation } from './route.ts';
import { sweep, SWEEP_EVERY_MS, SWEEP_QUEUE } from './sweep.ts';
import { applyWaitingOverflow, customerWrote, expireOffer } from './work.ts';

/** The routing jobs on the runner. */
export function registerRouting(runner: JobRunner, deps: { db: Kysely<DB>; notifier: Notifier; sweepEveryMs?: number }): void {
  const { db, notifier } = deps;
  runner.register(ROUTE_QUEUE, async (job) => routeConversation(db, notifier, (job.payload as { conversationId: string }).conversationId));
  runner.register(DISPATCH_QUEUE, async (job) => {
    await dispatchQueue(db, notifier, (job.payload as { queueId: string }).queueId);
  });
  runner.register(OFFER_TIMEOUT_QUEUE, async (job) => expireOffer(db, notifier, (job.payload as { offerId: string }).offerId));
  runner.register(OVERFLOW_QUEUE, async (job) => applyWaitingOverflow(db, notifier, job.payload as Parameters<typeof applyWaitingOverflow>[2]));
  runner.every(SWEEP_QUEUE, deps.sweepEveryMs ?? SWEEP_EVERY_MS, async () => sweep(db, notifier));
}

/** What inbound processing calls inside its transactions: classification of new conversations, and waiting ones back to active. */
export function routingHooks(notifier: Notifier): IngestHooks {
  return { conversationOpened: requestRouting, customerWrote: (trx, conversationId) => customerWrote(trx, notifier, conversationId) };
}
