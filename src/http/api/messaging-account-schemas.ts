import Type from 'typebox';
import type { AccountWithDiagnostics, ChannelWithDiagnostics, Warning } from '../../core/channels/messaging-accounts.ts';
import { MAX_NAME_LENGTH } from '../../core/channels/fields.ts';
import { webhookUrls } from '../../core/channels/store.ts';

/** The shapes of the messaging-accounts API. Secrets go in, only their hints come out. */

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const ProviderSchema = Type.Enum(['facebook', 'twilio-whatsapp', 'line']);
export const Name = Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH, description: 'what admins and agents call it' });
/** Write-only: stored encrypted, answered only as a hint. */
export const Secret = (description: string) => Type.String({ minLength: 1, maxLength: 2048, description: `${description} (write-only: answers show only its last 4 characters)` });
export const IdText = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });

export const AccountParams = Type.Object({ accountId: Type.String({ description: 'messaging account id' }) });
export const ChannelParams = Type.Object({ accountId: Type.String({ description: 'messaging account id' }), channelId: Type.String({ description: 'channel instance id' }) });

export const WarningSchema = Type.Object({
  code: Type.Enum(['public_url_missing', 'public_url_not_https']),
  message: Type.String({ description: 'what is wrong and what to change' }),
});

const DiagnosticsSchema = Type.Object(
  {
    lastWebhookAt: Nullable(DateTime),
    lastSignatureFailure: Nullable(Type.Object({ at: DateTime, reason: Type.String() })),
    lastHour: Type.Object({ accepted: Type.Integer(), rejected: Type.Integer() }),
  },
  { description: 'webhooks received for this channel instance' },
);

export const ChannelSchema = Type.Object({
  id: Type.String(),
  accountId: Type.String(),
  provider: ProviderSchema,
  kind: Type.Enum(['page', 'number', 'line_account'], { description: 'Facebook page, WhatsApp number or LINE account' }),
  name: Type.String(),
  externalId: Type.String({ description: 'page id, WhatsApp number (E.164) or LINE channel id' }),
  tokenHint: Nullable(Type.String({ description: 'the end of the page access token / channel access token' })),
  status: Type.Enum(['pending', 'running', 'needs_attention'], { description: 'pending: the provider has not answered yet' }),
  statusReason: Nullable(Type.String({ description: "why it needs attention, in the provider's words" })),
  statusCode: Nullable(Type.String({ description: "the provider's error code (e.g. 190, 20003, 401), or public_url_missing / check_failed" })),
  statusChangedAt: Nullable(DateTime),
  checkedAt: Nullable(DateTime),
  manualSteps: Type.Array(Type.String(), { description: 'what the admin must still do by hand at the provider' }),
  webhook: Type.Object({
    callbackUrl: Nullable(Type.String({ description: 'the URL the provider calls; null while PUBLIC_URL is not set' })),
    statusCallbackUrl: Type.Optional(Type.String({ description: 'Twilio: status callbacks' })),
    verifyToken: Type.Optional(Type.String({ description: 'Facebook: the verify token to enter with the callback URL' })),
  }),
  diagnostics: DiagnosticsSchema,
  createdAt: DateTime,
  updatedAt: DateTime,
});

export const AccountSchema = Type.Object({
  id: Type.String(),
  provider: ProviderSchema,
  name: Type.String(),
  externalId: Type.String({ description: 'Facebook app id, Twilio account SID or LINE channel id' }),
  secretHint: Type.String({ description: 'the end of the app secret / auth token / channel secret' }),
  channels: Type.Array(ChannelSchema, { description: 'pages, numbers, or the LINE account itself' }),
  createdAt: DateTime,
  updatedAt: DateTime,
});

export const AccountAnswer = Type.Object({ account: AccountSchema, warnings: Type.Array(WarningSchema) });
export const ChannelAnswer = Type.Object({ channel: ChannelSchema, warnings: Type.Array(WarningSchema) });

const iso = (date: Date | null) => date?.toISOString() ?? null;

export function channelView(channel: ChannelWithDiagnostics, publicUrl: string | undefined) {
  const urls = publicUrl ? webhookUrls(publicUrl, channel.provider, channel.webhookKey) : undefined;
  const { diagnostics: d } = channel;
  return {
    id: channel.id,
    accountId: channel.accountId,
    provider: channel.provider,
    kind: channel.kind,
    name: channel.name,
    externalId: channel.externalId,
    tokenHint: channel.tokenHint,
    status: channel.status,
    statusReason: channel.statusReason,
    statusCode: channel.statusCode,
    statusChangedAt: iso(channel.statusChangedAt),
    checkedAt: iso(channel.checkedAt),
    manualSteps: channel.manualSteps,
    webhook: {
      callbackUrl: urls?.callbackUrl ?? null,
      ...(urls?.statusCallbackUrl ? { statusCallbackUrl: urls.statusCallbackUrl } : {}),
      ...(channel.verifyToken ? { verifyToken: channel.verifyToken } : {}),
    },
    diagnostics: {
      lastWebhookAt: iso(d.lastWebhookAt),
      lastSignatureFailure: d.lastSignatureFailure ? { at: d.lastSignatureFailure.at.toISOString(), reason: d.lastSignatureFailure.reason } : null,
      lastHour: d.lastHour,
    },
    createdAt: channel.createdAt.toISOString(),
    updatedAt: channel.updatedAt.toISOString(),
  };
}

export function accountView(account: AccountWithDiagnostics, publicUrl: string | undefined) {
  return {
    id: account.id,
    provider: account.provider,
    name: account.name,
    externalId: account.externalId,
    secretHint: account.secretHint,
    channels: account.channels.map((c) => channelView(c, publicUrl)),
    createdAt: account.createdAt.toISOString(),
    updatedAt: account.updatedAt.toISOString(),
  };
}

