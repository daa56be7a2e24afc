import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.ts';
import type { JobHandler } from '../../jobs/runner.ts';
import type { CredentialCheck, DeliveryErrorClass, ProviderAdapter, ProviderId } from '../../providers/types.ts';
import type { SecretBox } from '../../secrets.ts';
import type { Actor } from '../audit/log.ts';
import { liveChannelIds } from './accounts.ts';
import { channelCredentials, type ChannelRecord } from './directory.ts';
import { PROVIDER_LABEL } from './fields.ts';
import { CHANNEL_CHECK_ACTOR, recordStatus, touchChecked, type StatusOutcome } from './status.ts';
import { webhookUrls } from './store.ts';

/**
 * Asking the provider whether a channel instance works: credentials first, then the wiring the
 * provider lets Parley do itself (subscribe the Facebook app to the page, set the LINE webhook
 * endpoint), and what the admin must still do by hand. Runs after the save has committed, never
 * inside a transaction, and within a deadline so a slow provider cannot hold an admin's request.
 */
export interface CheckDeps {
  db: Kysely<DB>;
  secrets: SecretBox;
  directory: { byId(id: string): Promise<ChannelRecord | null> };
  adapters: { get(provider: ProviderId): ProviderAdapter };
  publicUrl?: string | undefined;
}

/**
 * `provision`: after a save, do the provider-side wiring again. `recheck`: the periodic look;
 * it only wires again a channel that is not running, and a provider that is down for a moment
 * (5xx, timeout, rate limit) does not flip a running channel.
 */
export type CheckMode = 'provision' | 'recheck';

export const CHANNEL_RECHECK_QUEUE = 'channels.recheck';

const PASSING: ReadonlySet<DeliveryErrorClass> = new Set(['transient', 'rate_limited']);

function publicUrlMissing(): StatusOutcome {
  return {
    status: 'needs_attention',
    reason: 'PUBLIC_URL is not set, so there is no callback URL a provider could call',
    code: 'public_url_missing',
    manualSteps: ['Set PUBLIC_URL (or --public-url) to the https address where providers reach Parley, restart Parley, then check this channel again.'],
  };
}

function refusedReason(provider: ProviderId, error: NonNullable<CredentialCheck['error']>): string {
  const what = error.errorClass === 'auth' ? 'refused the credentials' : 'could not check the credentials';
  return `${PROVIDER_LABEL[provider]} ${what} (error ${error.code}${error.subcode ? `/${error.subcode}` : ''}): ${error.message}`;
}

async function decide(deps: CheckDeps, record: ChannelRecord, mode: CheckMode, currentlyRunning: boolean): Promise<StatusOutcome | 'unchanged'> {
  const adapter = deps.adapters.get(record.provider);
  const credentials = channelCredentials(record, deps.secrets);
  const check = await adapter.checkCredentials(credentials as never);
  if (!check.ok && mode === 'recheck' && currentlyRunning && PASSING.has(check.error!.errorClass)) return 'unchanged';
  if (!deps.publicUrl) return check.ok ? publicUrlMissing() : { ...publicUrlMissing(), reason: refusedReason(record.provider, check.error!), code: check.error!.code };
  if (check.ok && mode === 'recheck' && currentlyRunning) return { status: 'running', reason: null, code: null };
  // Provisioning also after a refusal: its manual steps say how to fix this provider's credentials.
  const provisioned = await adapter.provision(credentials as never, webhookUrls(deps.publicUrl, record.provider, record.webhookKey));
  if (!check.ok) return { status: 'needs_attention', reason: refusedReason(record.provider, check.error!), code: check.error!.code, manualSteps: provisioned.manualSteps };
  return { status: provisioned.status, reason: provisioned.reason ?? null, code: provisioned.code ?? null, manualSteps: provisioned.manualSteps };
}

/** Checks one channel instance and stores what the provider said. */
export async function checkChannel(deps: CheckDeps, channelId: string, mode: CheckMode, actor: Actor = CHANNEL_CHECK_ACTOR): Promise<void> {
  const record = await deps.directory.byId(channelId);
  if (!record || record.deleted) return;
  const current = await deps.db.selectFrom('channel_instances').select('status').where('id', '=', channelId).executeTakeFirst();
  let outcome: StatusOutcome | 'unchanged';
  try {
    outcome = await decide(deps, record, mode, current?.status === 'running');
  } catch (error) {
    // A failure of ours (not a provider's answer): say so on the channel rather than hide it.
    outcome = { status: 'needs_attention', reason: `Parley could not complete the check: ${(error as Error).message}`, code: 'check_failed' };
  }
  if (outcome === 'unchanged') await touchChecked(deps.db, channelId);
  else await recordStatus(deps.db, channelId, outcome, actor);
}

/**
 * Checks the given channels, waiting at most `deadlineMs`: what has not finished by then keeps
 * running and stores its outcome when the provider answers (the channel shows `pending` meanwhile).
 */
export async function checkWithin(deps: CheckDeps, channelIds: string[], mode: CheckMode, actor: Actor, deadlineMs: number, onError: (error: Error) => void = () => undefined): Promise<void> {
  const checks = Promise.all(channelIds.map((id) => checkChannel(deps, id, mode, actor).catch(onError)));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
  await Promise.race([checks, deadline]);
  clearTimeout(timer);
}

/** Re-checks every live channel instance, a few at a time, oldest check first. */
export async function recheckAll(deps: CheckDeps, concurrency = 4): Promise<number> {
  const ids = await liveChannelIds(deps.db);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      await checkChannel(deps, id, 'recheck');
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return ids.length;
}

/** The recurring job: `runner.every(CHANNEL_RECHECK_QUEUE, minutes * 60_000, recheckJob(deps))`. */
export function recheckJob(deps: CheckDeps): JobHandler {
  return async () => {
    await recheckAll(deps);
  };
}
