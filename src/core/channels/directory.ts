import type { Kysely } from 'kysely';
import { notify, type Notifier } from '../../db/notifier.ts';
import type { DB, Provider } from '../../db/schema.ts';
import type { Credentials, ProviderId } from '../../providers/types.ts';
import type { SecretBox } from '../../secrets.ts';

/**
 * Finds the channel instance a webhook URL belongs to, fast: a small cache of the sealed
 * records, dropped on every channel change (announced on `parley_channels`) and after a short
 * time as a safety net. Secrets stay sealed in the cache and are opened per use.
 */
export const CHANNELS_CHANGED = 'parley_channels';

export interface ChannelRecord {
  id: string;
  accountId: string;
  provider: Provider;
  name: string;
  externalId: string;
  accountExternalId: string;
  webhookKey: string;
  verifyToken: string | null;
  deleted: boolean;
  accountSecretSealed: string;
  tokenSealed: string | null;
}

const TTL_MS = 30_000;

/** Opens the sealed secrets of a channel into the credentials its adapter needs. */
export function channelCredentials(record: ChannelRecord, secrets: SecretBox): Credentials<ProviderId> {
  const secret = secrets.open(record.accountSecretSealed);
  const token = record.tokenSealed ? secrets.open(record.tokenSealed) : '';
  switch (record.provider) {
    case 'facebook':
      return { appId: record.accountExternalId, appSecret: secret, pageId: record.externalId, pageAccessToken: token };
    case 'twilio-whatsapp':
      return { accountSid: record.accountExternalId, authToken: secret, number: record.externalId };
    case 'line':
      return { channelId: record.accountExternalId, channelSecret: secret, channelAccessToken: token };
  }
}

export function createChannelDirectory(db: Kysely<DB>, notifier: Notifier) {
  const cache = new Map<string, { record: ChannelRecord | null; at: number }>();
  let unlisten: (() => Promise<void>) | undefined;

  async function cached(key: string, loader: () => Promise<ChannelRecord | null>): Promise<ChannelRecord | null> {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.record;
    const record = await loader();
    cache.set(key, { record, at: Date.now() });
    return record;
  }

  type Filter = { column: 'webhook_key' | 'id'; value: string } | { accountId: string; externalId: string };

  async function load(filter: Filter): Promise<ChannelRecord | null> {
    let query = db
      .selectFrom('channel_instances as c')
      .innerJoin('messaging_accounts as a', 'a.id', 'c.account_id')
      .select([
        'c.id', 'c.account_id', 'c.provider', 'c.name', 'c.external_id', 'c.webhook_key', 'c.verify_token', 'c.deleted_at',
        'c.token_sealed', 'a.external_id as account_external_id', 'a.secret_sealed', 'a.deleted_at as account_deleted_at',
      ]);
    query =
      'column' in filter
        ? query.where(`c.${filter.column}`, '=', filter.value)
        : query.where('c.account_id', '=', filter.accountId).where('c.external_id', '=', filter.externalId).where('c.deleted_at', 'is', null);
    const row = await query.executeTakeFirst();
    if (!row) return null;
    return {
      id: row.id,
      accountId: row.account_id,
      provider: row.provider,
      name: row.name,
      externalId: row.external_id,
      accountExternalId: row.account_external_id,
      webhookKey: row.webhook_key,
      verifyToken: row.verify_token,
      deleted: row.deleted_at !== null || row.account_deleted_at !== null,
      accountSecretSealed: row.secret_sealed,
      tokenSealed: row.token_sealed,
    };
  }

  return {
    async start(): Promise<void> {
      unlisten = await notifier.listen(CHANNELS_CHANGED, () => cache.clear());
    },
    async stop(): Promise<void> {
      await unlisten?.();
    },
    /** The channel behind a webhook URL (deleted ones included, so they can answer 410). */
    byWebhookKey(key: string): Promise<ChannelRecord | null> {
      return cached(key, () => load({ column: 'webhook_key', value: key }));
    },
    /**
     * Another live channel instance of the same account, by its provider id: a Facebook app has
     * one callback URL for all its pages, so a page's events may arrive at a sibling page's URL.
     */
    sibling(of: ChannelRecord, externalId: string): Promise<ChannelRecord | null> {
      return cached(`sibling:${of.accountId}:${externalId}`, () => load({ accountId: of.accountId, externalId }));
    },
    byId(id: string): Promise<ChannelRecord | null> {
      return load({ column: 'id', value: id });
    },
    /** Tells every instance that channels changed (call inside the changing transaction). */
    announceChange(executor: Kysely<DB>, channelId: string): Promise<void> {
      return notifier.notify(executor, CHANNELS_CHANGED, channelId);
    },
  };
}

export type ChannelDirectory = ReturnType<typeof createChannelDirectory>;

/** The same announcement for code that holds only a transaction (e.g. flagging a channel from a send). */
export function announceChannelChange(executor: Kysely<DB>, channelId: string): Promise<void> {
  return notify(executor, CHANNELS_CHANGED, channelId);
}
