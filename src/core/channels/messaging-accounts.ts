import type { Provider } from '../../db/schema.ts';
import type { Actor } from '../audit/log.ts';
import { invalid } from '../errors.ts';
import * as accounts from './accounts.ts';
import type { ChannelInstance, MessagingAccount, NewAccount, NewChannel } from './accounts.ts';
import { checkWithin, recheckAll, type CheckDeps } from './checks.ts';
import { checkSecret, FIELDS, PROVIDER_LABEL } from './fields.ts';
import type { WebhookDiagnostics, WebhookStats } from './webhook-stats.ts';

/**
 * What the admin API does with messaging accounts: each change is saved (and audited, and
 * announced) first, then the provider is asked, within a deadline, whether the saved channel
 * works; the answer names the status it reached and the warnings about PUBLIC_URL.
 */
export interface MessagingAccountsDeps extends CheckDeps {
  stats: Pick<WebhookStats, 'read'>;
  /** How long a save waits for the provider's answers (each call has its own timeout too). */
  checkDeadlineMs?: number;
  onError?: (error: Error) => void;
}

export interface Warning {
  code: 'public_url_missing' | 'public_url_not_https';
  message: string;
}

export type ChannelWithDiagnostics = ChannelInstance & { diagnostics: WebhookDiagnostics };
export type AccountWithDiagnostics = Omit<MessagingAccount, 'channels'> & { channels: ChannelWithDiagnostics[] };

/** What is wrong with PUBLIC_URL for providers, and what to do about it. */
export function publicUrlWarnings(publicUrl: string | undefined): Warning[] {
  if (!publicUrl) {
    return [{ code: 'public_url_missing', message: 'PUBLIC_URL is not set: no callback URL can be given to providers. Set PUBLIC_URL (or --public-url) to the https address where providers reach Parley, e.g. https://parley.example.com, and restart.' }];
  }
  if (!publicUrl.startsWith('https://')) {
    return [{ code: 'public_url_not_https', message: `PUBLIC_URL is ${publicUrl}, not https: Facebook, Twilio and LINE deliver webhooks only to https URLs. Put Parley behind https (a reverse proxy with a certificate) and set PUBLIC_URL to that address.` }];
  }
  return [];
}

export function createMessagingAccounts(deps: MessagingAccountsDeps) {
  const { db, secrets } = deps;
  const deadline = deps.checkDeadlineMs ?? 20_000;

  async function withDiagnostics(channel: ChannelInstance): Promise<ChannelWithDiagnostics> {
    return { ...channel, diagnostics: await deps.stats.read(channel.id) };
  }
  async function accountView(account: MessagingAccount): Promise<AccountWithDiagnostics> {
    return { ...account, channels: await Promise.all(account.channels.map(withDiagnostics)) };
  }
  const check = (ids: string[], actor: Actor) => checkWithin(deps, ids, 'provision', actor, deadline, deps.onError);

  return {
    warnings: () => publicUrlWarnings(deps.publicUrl),

    async list(query: { provider?: Provider } = {}): Promise<AccountWithDiagnostics[]> {
      return Promise.all((await accounts.listAccounts(db, query)).map(accountView));
    },

    async get(accountId: string): Promise<AccountWithDiagnostics> {
      return accountView(await accounts.getAccount(db, accountId));
    },

    async getChannel(accountId: string, channelId: string): Promise<ChannelWithDiagnostics> {
      return withDiagnostics(await accounts.getChannel(db, accountId, channelId));
    },

    async create(input: NewAccount, actor: Actor): Promise<AccountWithDiagnostics> {
      const { accountId, channelIds } = await accounts.createAccount(db, secrets, input, actor);
      await check(channelIds, actor);
      return accountView(await accounts.getAccount(db, accountId));
    },

    async addChannel(accountId: string, input: NewChannel, actor: Actor): Promise<ChannelWithDiagnostics> {
      const channelId = await accounts.createChannel(db, secrets, accountId, input, actor);
      await check([channelId], actor);
      return withDiagnostics(await accounts.getChannel(db, accountId, channelId));
    },

    /**
     * Renames and/or replaces secrets. `secrets` holds at most the account's own secret field and,
     * for LINE, `channelAccessToken` (kept on its one channel instance).
     */
    async update(accountId: string, changes: { name?: string; secrets: Record<string, string> }, actor: Actor): Promise<AccountWithDiagnostics> {
      const { channelAccessToken, ...rest } = changes.secrets;
      const entries = Object.entries(rest);
      if (entries.length > 1) throw invalid(entries[1]![0], 'give one account secret at a time');
      const secret = entries[0] && { field: entries[0][0], value: entries[0][1] };
      // everything that can be refused is refused before anything is saved
      let lineChannel: string | undefined;
      if (channelAccessToken !== undefined) {
        const account = await accounts.getAccount(db, accountId);
        lineChannel = account.provider === 'line' ? account.channels[0]?.id : undefined;
        if (!lineChannel) throw invalid('channelAccessToken', `is not a field of a ${PROVIDER_LABEL[account.provider]} account`);
        checkSecret('channelAccessToken', channelAccessToken);
      }
      const toCheck = new Set(await accounts.updateAccount(db, secrets, accountId, { name: changes.name, secret }, actor));
      if (lineChannel && channelAccessToken !== undefined) {
        await accounts.replaceToken(db, secrets, accountId, lineChannel, FIELDS.line.token, channelAccessToken, actor);
        toCheck.add(lineChannel);
      }
      await check([...toCheck], actor);
      return accountView(await accounts.getAccount(db, accountId));
    },

    async renameChannel(accountId: string, channelId: string, name: string, actor: Actor): Promise<ChannelWithDiagnostics> {
      await accounts.renameChannel(db, accountId, channelId, name, actor);
      return withDiagnostics(await accounts.getChannel(db, accountId, channelId));
    },

    async replaceToken(accountId: string, channelId: string, token: string, actor: Actor): Promise<ChannelWithDiagnostics> {
      await accounts.replaceToken(db, secrets, accountId, channelId, 'token', token, actor);
      await check([channelId], actor);
      return withDiagnostics(await accounts.getChannel(db, accountId, channelId));
    },

    /** "Check now": the same as after a save, wiring included. */
    async recheck(accountId: string, channelId: string, actor: Actor): Promise<ChannelWithDiagnostics> {
      await accounts.getChannel(db, accountId, channelId);
      await check([channelId], actor);
      return withDiagnostics(await accounts.getChannel(db, accountId, channelId));
    },

    deleteAccount: (accountId: string, actor: Actor) => accounts.deleteAccount(db, accountId, actor),
    deleteChannel: (accountId: string, accountChannelId: string, actor: Actor) => accounts.deleteChannel(db, accountId, accountChannelId, actor),

    /** The periodic re-check of every live channel instance. */
    recheckAll: () => recheckAll(deps),
  };
}

export type MessagingAccounts = ReturnType<typeof createMessagingAccounts>;
