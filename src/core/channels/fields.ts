import type { Provider } from '../../db/schema.ts';
import { invalid } from '../errors.ts';

/**
 * What each provider's messaging account and channel instances are made of, in the words the
 * admin sees, and the checks on what an admin types. The checks explain the expected form
 * (rather than quoting a pattern), because a wrong id is almost always a paste from the wrong box.
 */
export type ChannelKind = 'page' | 'number' | 'line_account';

export const KIND_OF: Record<Provider, ChannelKind> = { facebook: 'page', 'twilio-whatsapp': 'number', line: 'line_account' };

export const PROVIDER_LABEL: Record<Provider, string> = { facebook: 'Facebook', 'twilio-whatsapp': 'Twilio', line: 'LINE' };

/** How a channel instance is called in messages: "page", "WhatsApp number", "LINE account". */
export const KIND_LABEL: Record<ChannelKind, string> = { page: 'page', number: 'WhatsApp number', line_account: 'LINE account' };

/** The API field names of each provider's account id, account secret and instance token. */
export const FIELDS = {
  facebook: { externalId: 'appId', secret: 'appSecret', instanceId: 'pageId', token: 'pageAccessToken' },
  'twilio-whatsapp': { externalId: 'accountSid', secret: 'authToken', instanceId: 'number', token: undefined },
  line: { externalId: 'channelId', secret: 'channelSecret', instanceId: 'channelId', token: 'channelAccessToken' },
} as const satisfies Record<Provider, { externalId: string; secret: string; instanceId: string; token: string | undefined }>;

export const MAX_NAME_LENGTH = 100;

export function checkName(field: string, name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw invalid(field, 'must not be empty');
  if (trimmed.length > MAX_NAME_LENGTH) throw invalid(field, `must be at most ${MAX_NAME_LENGTH} characters long`);
  return trimmed;
}

/** Secrets are pasted: surrounding spaces and line breaks go, inner ones mean a wrong paste. */
export function checkSecret(field: string, secret: string): string {
  const trimmed = secret.trim();
  if (trimmed === '') throw invalid(field, 'must not be empty');
  if (/\s/.test(trimmed)) throw invalid(field, 'must not contain spaces or line breaks; paste the value exactly as the provider shows it');
  return trimmed;
}

const FORMS: Record<string, { pattern: RegExp; reason: string }> = {
  appId: { pattern: /^\d{1,20}$/, reason: 'must be the numeric App ID shown in the Meta App Dashboard' },
  pageId: { pattern: /^\d{1,20}$/, reason: "must be the numeric Page ID (Page settings → About → Page transparency, or the page's Meta Business Suite info)" },
  accountSid: { pattern: /^AC[0-9a-fA-F]{32}$/, reason: 'must be the Account SID: "AC" followed by 32 hexadecimal characters, as shown in the Twilio Console' },
  channelId: { pattern: /^\d{1,20}$/, reason: 'must be the numeric Channel ID shown in the LINE Developers Console (Basic settings)' },
  number: { pattern: /^\+[1-9]\d{6,14}$/, reason: 'must be in E.164 form: a leading + and the country code, digits only, e.g. +14155550199' },
};

/** Checks an id field (appId, pageId, accountSid, channelId, number) against its provider's form. */
export function checkId(field: keyof typeof FORMS & string, value: string): string {
  const trimmed = value.trim();
  const form = FORMS[field]!;
  if (!form.pattern.test(trimmed)) throw invalid(field, form.reason);
  return trimmed;
}
