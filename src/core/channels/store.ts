import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, Provider } from '../../db/schema.ts';
import type { SecretBox } from '../../secrets.ts';

/**
 * Storing messaging accounts and channel instances: secrets sealed with a short hint, and per
 * instance a webhook URL key and (Facebook) a verify token made only of letters and digits, so
 * no provider rewrites them on the way (a `+` turned into a space breaks verification).
 */
const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function randomToken(length: number, alphabet = ALPHANUMERIC): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  // rejection sampling keeps every character equally likely
  for (let i = 0; i < bytes.length && out.length < length; i++) {
    const b = bytes[i]!;
    if (b < 256 - (256 % alphabet.length)) out += alphabet[b % alphabet.length];
  }
  return out.length === length ? out : randomToken(length, alphabet);
}

export const newWebhookKey = () => randomToken(24, 'abcdefghijklmnopqrstuvwxyz0123456789');
export const newVerifyToken = () => randomToken(32);

/** Shows the end of a secret so an admin can tell which one is stored, never the rest. */
export function hint(secret: string): string {
  return secret.length <= 8 ? '••••' : `••••${secret.slice(-4)}`;
}

/** The URLs providers call for one channel instance. */
export function webhookUrls(publicBase: string, provider: Provider, key: string): { callbackUrl: string; statusCallbackUrl?: string } {
  const callbackUrl = `${publicBase}/webhooks/${provider}/${key}`;
  return provider === 'twilio-whatsapp' ? { callbackUrl, statusCallbackUrl: `${callbackUrl}/status` } : { callbackUrl };
}

export async function insertAccount(
  executor: Kysely<DB>,
  secrets: SecretBox,
  input: { provider: Provider; name: string; externalId: string; secret: string },
): Promise<string> {
  const row = await executor
    .insertInto('messaging_accounts')
    .values({ provider: input.provider, name: input.name, external_id: input.externalId, secret_sealed: secrets.seal(input.secret), secret_hint: hint(input.secret) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function insertChannelInstance(
  executor: Kysely<DB>,
  secrets: SecretBox,
  input: { accountId: string; provider: Provider; name: string; externalId: string; token?: string },
): Promise<{ id: string; webhookKey: string; verifyToken: string | null }> {
  const webhookKey = newWebhookKey();
  const verifyToken = input.provider === 'facebook' ? newVerifyToken() : null;
  const row = await executor
    .insertInto('channel_instances')
    .values({
      account_id: input.accountId,
      provider: input.provider,
      name: input.name,
      external_id: input.externalId,
      token_sealed: input.token ? secrets.seal(input.token) : null,
      token_hint: input.token ? hint(input.token) : null,
      webhook_key: webhookKey,
      verify_token: verifyToken,
      manual_steps: JSON.stringify([]),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, webhookKey, verifyToken };
}
