import type { Kysely, Selectable } from 'kysely';
import type { ChannelInstancesTable, ChannelStatus, DB, MessagingAccountsTable, Provider } from '../../db/schema.ts';
import type { SecretBox } from '../../secrets.ts';
import { audit, type Actor } from '../audit/log.ts';
import { conflict, DomainError, invalid, isUniqueViolation, notFound } from '../errors.ts';
import { announceChannelChange } from './directory.ts';
import { checkId, checkName, checkSecret, FIELDS, KIND_LABEL, KIND_OF, PROVIDER_LABEL, type ChannelKind } from './fields.ts';
import { hint, insertAccount, insertChannelInstance } from './store.ts';

/**
 * Messaging accounts and their channel instances as the admin manages them: created, renamed,
 * given new secrets, deleted. Only the database here; the provider checks that follow a save
 * live in checks.ts and run after the transaction commits. Every change is audited and
 * announced on `parley_channels` in the transaction that makes it.
 */

export interface ChannelInstance {
  id: string;
  accountId: string;
  provider: Provider;
  kind: ChannelKind;
  name: string;
  /** Page id, WhatsApp number (+E.164) or LINE channel id. */
  externalId: string;
  tokenHint: string | null;
  webhookKey: string;
  verifyToken: string | null;
  status: ChannelStatus;
  statusReason: string | null;
  statusCode: string | null;
  statusChangedAt: Date | null;
  manualSteps: string[];
  checkedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface MessagingAccount {
  id: string;
  provider: Provider;
  name: string;
  /** App id, account SID or LINE channel id. */
  externalId: string;
  secretHint: string;
  createdAt: Date;
  updatedAt: Date;
  channels: ChannelInstance[];
}

export type NewAccount =
  | { provider: 'facebook'; name: string; appId: string; appSecret: string }
  | { provider: 'twilio-whatsapp'; name: string; accountSid: string; authToken: string }
  | { provider: 'line'; name: string; channelId: string; channelSecret: string; channelAccessToken: string };

export type NewChannel = { provider: 'facebook'; name: string; pageId: string; pageAccessToken: string } | { provider: 'twilio-whatsapp'; name: string; number: string };

export interface AccountChanges {
  name?: string;
  /** The account's secret under its provider's field name (appSecret, authToken, channelSecret). */
  secret?: { field: string; value: string };
}

/** Which live channel instance holds a page / number / LINE channel. */
export interface Holder {
  id: string;
  name: string;
  accountId: string;
  accountName: string;
}

function toChannel(row: Selectable<ChannelInstancesTable>): ChannelInstance {
  return {
    id: row.id,
    accountId: row.account_id,
    provider: row.provider,
    kind: KIND_OF[row.provider],
    name: row.name,
    externalId: row.external_id,
    tokenHint: row.token_hint,
    webhookKey: row.webhook_key,
    verifyToken: row.verify_token,
    status: row.status,
    statusReason: row.status_reason,
    statusCode: row.status_code,
    statusChangedAt: row.status_changed_at,
    manualSteps: row.manual_steps,
    checkedAt: row.checked_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toAccount(row: Selectable<MessagingAccountsTable>, channels: ChannelInstance[]): MessagingAccount {
  return {
    id: row.id,
    provider: row.provider,
    name: row.name,
    externalId: row.external_id,
    secretHint: row.secret_hint,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    channels,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function liveAccountRow(executor: Kysely<DB>, id: string) {
  if (!UUID.test(id)) throw notFound('messaging account');
  const row = await executor.selectFrom('messaging_accounts').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
  if (!row) throw notFound('messaging account');
  return row;
}

async function liveChannelRow(executor: Kysely<DB>, accountId: string, channelId: string) {
  if (!UUID.test(channelId)) throw notFound('channel instance');
  const row = await executor
    .selectFrom('channel_instances')
    .selectAll()
    .where('id', '=', channelId)
    .where('account_id', '=', accountId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw notFound('channel instance');
  return row;
}

export async function getAccount(executor: Kysely<DB>, id: string): Promise<MessagingAccount> {
  const row = await liveAccountRow(executor, id);
  const channels = await executor.selectFrom('channel_instances').selectAll().where('account_id', '=', id).where('deleted_at', 'is', null).orderBy('created_at').execute();
  return toAccount(row, channels.map(toChannel));
}

export async function listAccounts(executor: Kysely<DB>, query: { provider?: Provider } = {}): Promise<MessagingAccount[]> {
  let accounts = executor.selectFrom('messaging_accounts').selectAll().where('deleted_at', 'is', null);
  if (query.provider) accounts = accounts.where('provider', '=', query.provider);
  const rows = await accounts.orderBy('created_at').execute();
  if (rows.length === 0) return [];
  const channels = await executor
    .selectFrom('channel_instances')
    .selectAll()
    .where('account_id', 'in', rows.map((r) => r.id))
    .where('deleted_at', 'is', null)
    .orderBy('created_at')
    .execute();
  return rows.map((row) => toAccount(row, channels.filter((c) => c.account_id === row.id).map(toChannel)));
}

export async function getChannel(executor: Kysely<DB>, accountId: string, channelId: string): Promise<ChannelInstance> {
  await liveAccountRow(executor, accountId);
  return toChannel(await liveChannelRow(executor, accountId, channelId));
}

/** Every live channel instance (of a live account), for the periodic re-check. */
export async function liveChannelIds(executor: Kysely<DB>): Promise<string[]> {
  const rows = await executor
    .selectFrom('channel_instances as c')
    .innerJoin('messaging_accounts as a', 'a.id', 'c.account_id')
    .select('c.id')
    .where('c.deleted_at', 'is', null)
    .where('a.deleted_at', 'is', null)
    .orderBy('c.checked_at', (ob) => ob.asc().nullsFirst())
    .execute();
  return rows.map((r) => r.id);
}

async function holderOf(executor: Kysely<DB>, provider: Provider, externalId: string): Promise<Holder | undefined> {
  const row = await executor
    .selectFrom('channel_instances as c')
    .innerJoin('messaging_accounts as a', 'a.id', 'c.account_id')
    .select(['c.id', 'c.name', 'c.account_id', 'a.name as account_name'])
    .where('c.provider', '=', provider)
    .where('c.external_id', '=', externalId)
    .where('c.deleted_at', 'is', null)
    .executeTakeFirst();
  return row && { id: row.id, name: row.name, accountId: row.account_id, accountName: row.account_name };
}

function alreadyUsed(provider: Provider, externalId: string, holder: Holder): DomainError {
  const kind = KIND_LABEL[KIND_OF[provider]];
  return conflict(
    `${kind} ${externalId} is already used by the channel instance "${holder.name}" (${holder.id}) of messaging account "${holder.accountName}"; ` +
      'delete that one first. No callback URL or verify token was generated.',
    { holder },
  );
}

/** Refuses a page / number / LINE channel that a live channel instance already holds. */
async function ensureFree(executor: Kysely<DB>, provider: Provider, externalId: string): Promise<void> {
  const holder = await holderOf(executor, provider, externalId);
  if (holder) throw alreadyUsed(provider, externalId, holder);
}

/** The unique index is the last word when two admins save the same page at once. */
async function uniquely<T>(provider: Provider, externalId: string, executor: Kysely<DB>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const holder = await holderOf(executor, provider, externalId);
    throw holder ? alreadyUsed(provider, externalId, holder) : error;
  }
}

function validAccount(input: NewAccount): { name: string; externalId: string; secret: string; token?: string } {
  const name = checkName('name', input.name);
  switch (input.provider) {
    case 'facebook':
      return { name, externalId: checkId('appId', input.appId), secret: checkSecret('appSecret', input.appSecret) };
    case 'twilio-whatsapp':
      return { name, externalId: checkId('accountSid', input.accountSid), secret: checkSecret('authToken', input.authToken) };
    case 'line':
      return { name, externalId: checkId('channelId', input.channelId), secret: checkSecret('channelSecret', input.channelSecret), token: checkSecret('channelAccessToken', input.channelAccessToken) };
  }
}

/**
 * Creates an account; a LINE account is also its one channel instance, created with it. An
 * account id already held by a live account of the same provider is refused: two copies of one
 * set of credentials would drift apart.
 */
export async function createAccount(db: Kysely<DB>, secrets: SecretBox, input: NewAccount, actor: Actor): Promise<{ accountId: string; channelIds: string[] }> {
  const valid = validAccount(input);
  return db.transaction().execute(async (trx) => {
    // a LINE account is its channel: name the channel instance that holds it
    if (input.provider === 'line') await ensureFree(trx, 'line', valid.externalId);
    const twin = await trx
      .selectFrom('messaging_accounts')
      .select(['id', 'name'])
      .where('provider', '=', input.provider)
      .where('external_id', '=', valid.externalId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (twin) {
      throw conflict(`${PROVIDER_LABEL[input.provider]} ${FIELDS[input.provider].externalId} ${valid.externalId} is already connected as messaging account "${twin.name}" (${twin.id})`, {
        holder: { id: twin.id, name: twin.name, accountId: twin.id, accountName: twin.name },
      });
    }
    const accountId = await insertAccount(trx, secrets, { provider: input.provider, name: valid.name, externalId: valid.externalId, secret: valid.secret });
    await audit(trx, {
      actor,
      action: 'channel.account.created',
      target: { type: 'messaging_account', id: accountId },
      details: { provider: input.provider, name: valid.name, [FIELDS[input.provider].externalId]: valid.externalId },
    });
    const channelIds: string[] = [];
    if (input.provider === 'line') {
      const channel = await uniquely('line', valid.externalId, trx, () =>
        insertChannelInstance(trx, secrets, { accountId, provider: 'line', name: valid.name, externalId: valid.externalId, token: valid.token! }),
      );
      channelIds.push(channel.id);
      await announceChannelChange(trx, channel.id);
    }
    return { accountId, channelIds };
  });
}

/** Adds a Facebook page or a WhatsApp number to an account of that provider. */
export async function createChannel(db: Kysely<DB>, secrets: SecretBox, accountId: string, input: NewChannel, actor: Actor): Promise<string> {
  const name = checkName('name', input.name);
  const externalId = input.provider === 'facebook' ? checkId('pageId', input.pageId) : checkId('number', input.number);
  const token = input.provider === 'facebook' ? checkSecret('pageAccessToken', input.pageAccessToken) : undefined;
  return db.transaction().execute(async (trx) => {
    const account = await liveAccountRow(trx, accountId);
    if (account.provider !== input.provider) {
      const adds = account.provider === 'twilio-whatsapp' ? 'WhatsApp numbers' : account.provider === 'facebook' ? 'pages' : 'nothing: a LINE account is its own channel';
      throw conflict(`messaging account "${account.name}" is a ${PROVIDER_LABEL[account.provider]} account; add ${adds} to it`);
    }
    await ensureFree(trx, input.provider, externalId);
    const channel = await uniquely(input.provider, externalId, trx, () =>
      insertChannelInstance(trx, secrets, { accountId, provider: input.provider, name, externalId, ...(token ? { token } : {}) }),
    );
    const kind = KIND_OF[input.provider];
    await audit(trx, {
      actor,
      action: `channel.${kind}.created`,
      target: { type: 'channel_instance', id: channel.id },
      details: { accountId, name, [FIELDS[input.provider].instanceId]: externalId },
    });
    await announceChannelChange(trx, channel.id);
    return channel.id;
  });
}

/**
 * Renames an account and/or replaces its secret. Returns the channel instances to check again
 * (all of the account's when the secret changed). A LINE account's name is its channel's name too.
 */
export async function updateAccount(db: Kysely<DB>, secrets: SecretBox, accountId: string, changes: AccountChanges, actor: Actor): Promise<string[]> {
  const name = changes.name === undefined ? undefined : checkName('name', changes.name);
  const secret = changes.secret && checkSecret(changes.secret.field, changes.secret.value);
  return db.transaction().execute(async (trx) => {
    const account = await liveAccountRow(trx, accountId);
    if (changes.secret && changes.secret.field !== FIELDS[account.provider].secret) {
      throw invalid(changes.secret.field, `is not a field of a ${PROVIDER_LABEL[account.provider]} account (its secret is ${FIELDS[account.provider].secret})`);
    }
    const channels = await trx.selectFrom('channel_instances').select('id').where('account_id', '=', accountId).where('deleted_at', 'is', null).execute();
    if (name !== undefined && name !== account.name) {
      await trx.updateTable('messaging_accounts').set({ name, updated_at: new Date() }).where('id', '=', accountId).execute();
      if (account.provider === 'line') await trx.updateTable('channel_instances').set({ name, updated_at: new Date() }).where('account_id', '=', accountId).where('deleted_at', 'is', null).execute();
      await audit(trx, { actor, action: 'channel.account.renamed', target: { type: 'messaging_account', id: accountId }, details: { from: account.name, to: name } });
    }
    if (secret !== undefined) {
      await trx.updateTable('messaging_accounts').set({ secret_sealed: secrets.seal(secret), secret_hint: hint(secret), updated_at: new Date() }).where('id', '=', accountId).execute();
      await audit(trx, { actor, action: 'channel.account.secret_replaced', target: { type: 'messaging_account', id: accountId }, details: { field: changes.secret!.field } });
    }
    for (const channel of channels) await announceChannelChange(trx, channel.id);
    return secret !== undefined ? channels.map((c) => c.id) : [];
  });
}

export async function renameChannel(db: Kysely<DB>, accountId: string, channelId: string, newName: string, actor: Actor): Promise<void> {
  const name = checkName('name', newName);
  await db.transaction().execute(async (trx) => {
    const account = await liveAccountRow(trx, accountId);
    const channel = await liveChannelRow(trx, accountId, channelId);
    if (channel.name === name) return;
    await trx.updateTable('channel_instances').set({ name, updated_at: new Date() }).where('id', '=', channelId).execute();
    if (account.provider === 'line') await trx.updateTable('messaging_accounts').set({ name, updated_at: new Date() }).where('id', '=', accountId).execute();
    await audit(trx, { actor, action: `channel.${KIND_OF[channel.provider]}.renamed`, target: { type: 'channel_instance', id: channelId }, details: { from: channel.name, to: name } });
    await announceChannelChange(trx, channelId);
  });
}

/**
 * A new page access token or LINE channel access token for the same channel instance: its id,
 * webhook URL, verify token, conversations and messages stay as they are.
 */
export async function replaceToken(db: Kysely<DB>, secrets: SecretBox, accountId: string, channelId: string, field: string, newToken: string, actor: Actor): Promise<void> {
  const token = checkSecret(field, newToken);
  await db.transaction().execute(async (trx) => {
    await liveAccountRow(trx, accountId);
    const channel = await liveChannelRow(trx, accountId, channelId);
    const expected = FIELDS[channel.provider].token;
    if (!expected) throw invalid(field, `a ${KIND_LABEL[KIND_OF[channel.provider]]} has no token of its own; replace the account's ${FIELDS[channel.provider].secret} instead`);
    if (field !== expected && field !== 'token') throw invalid(field, `is not a field of a ${KIND_LABEL[KIND_OF[channel.provider]]} (its token is ${expected})`);
    await trx.updateTable('channel_instances').set({ token_sealed: secrets.seal(token), token_hint: hint(token), updated_at: new Date() }).where('id', '=', channelId).execute();
    await audit(trx, { actor, action: `channel.${KIND_OF[channel.provider]}.token_replaced`, target: { type: 'channel_instance', id: channelId }, details: { accountId } });
    await announceChannelChange(trx, channelId);
  });
}

/**
 * Soft delete: the account and its channel instances are marked deleted, so their webhooks are
 * answered 410 and nothing more is taken in; conversations and messages stay.
 */
export async function deleteAccount(db: Kysely<DB>, accountId: string, actor: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const account = await liveAccountRow(trx, accountId);
    const now = new Date();
    const channels = await trx.updateTable('channel_instances').set({ deleted_at: now, updated_at: now }).where('account_id', '=', accountId).where('deleted_at', 'is', null).returning('id').execute();
    await trx.updateTable('messaging_accounts').set({ deleted_at: now, updated_at: now }).where('id', '=', accountId).execute();
    await audit(trx, {
      actor,
      action: 'channel.account.deleted',
      target: { type: 'messaging_account', id: accountId },
      details: { provider: account.provider, name: account.name, channelIds: channels.map((c) => c.id) },
    });
    for (const channel of channels) await announceChannelChange(trx, channel.id);
  });
}

/** Deletes one page or number; a LINE account is its own channel, so deleting it deletes the account. */
export async function deleteChannel(db: Kysely<DB>, accountId: string, channelId: string, actor: Actor): Promise<void> {
  const account = await liveAccountRow(db, accountId);
  if (account.provider === 'line') {
    await liveChannelRow(db, accountId, channelId);
    return deleteAccount(db, accountId, actor);
  }
  await db.transaction().execute(async (trx) => {
    const channel = await liveChannelRow(trx, accountId, channelId);
    const now = new Date();
    await trx.updateTable('channel_instances').set({ deleted_at: now, updated_at: now }).where('id', '=', channelId).execute();
    await audit(trx, {
      actor,
      action: `channel.${KIND_OF[channel.provider]}.deleted`,
      target: { type: 'channel_instance', id: channelId },
      details: { accountId, name: channel.name, [FIELDS[channel.provider].instanceId]: channel.external_id },
    });
    await announceChannelChange(trx, channelId);
  });
}
