import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { MessagingAccounts } from '../../core/channels/messaging-accounts.ts';
import { actorOf } from '../access.ts';
import {
  AccountAnswer,
  AccountParams,
  AccountSchema,
  accountView,
  ChannelAnswer,
  ChannelParams,
  channelView,
  IdText,
  Name,
  ProviderSchema,
  Secret,
  WarningSchema,
} from './messaging-account-schemas.ts';
import { errors } from './schemas.ts';

/**
 * Messaging accounts and their channel instances: admins only. Every save is followed by a
 * check with the provider (within a bounded time); a provider that refuses still leaves the
 * record saved, with status `needs_attention` and the provider's reason and error code.
 */
export async function messagingAccountRoutes(app: FastifyInstance, deps: { channels: MessagingAccounts; publicUrl?: string | undefined }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { channels, publicUrl } = deps;
  const config = { roles: ['admin'] as const };
  const tags = ['Messaging accounts'];
  const base = '/api/v1/messaging-accounts';
  const saved = 'The answer shows the status reached: `running`, `needs_attention` (with the provider\'s reason and error code, and `manualSteps`), or `pending` when the provider did not answer in time (the check finishes in the background).';
  const account = (a: Parameters<typeof accountView>[0]) => ({ account: accountView(a, publicUrl), warnings: channels.warnings() });
  const channel = (c: Parameters<typeof channelView>[0]) => ({ channel: channelView(c, publicUrl), warnings: channels.warnings() });

  r.get(base, {
    config,
    schema: {
      tags,
      summary: 'List messaging accounts with their channel instances',
      querystring: Type.Object({ provider: Type.Optional(ProviderSchema) }),
      response: { 200: Type.Object({ accounts: Type.Array(AccountSchema), warnings: Type.Array(WarningSchema) }), ...errors(400, 401, 403) },
    },
  }, async (request) => ({ accounts: (await channels.list(request.query)).map((a) => accountView(a, publicUrl)), warnings: channels.warnings() }));

  r.post(`${base}/facebook`, {
    config,
    schema: {
      tags,
      summary: 'Connect a Facebook app',
      description: 'Add its pages afterwards with POST /messaging-accounts/{accountId}/pages.',
      body: Type.Object({ name: Name, appId: IdText('the numeric App ID'), appSecret: Secret('the App Secret') }),
      response: { 201: AccountAnswer, ...errors(401, 403, 409, 422) },
    },
  }, async (request, reply) => reply.status(201).send(account(await channels.create({ provider: 'facebook', ...request.body }, actorOf(request)))));

  r.post(`${base}/twilio-whatsapp`, {
    config,
    schema: {
      tags,
      summary: 'Connect a Twilio account for WhatsApp',
      description: 'Add its WhatsApp numbers afterwards with POST /messaging-accounts/{accountId}/numbers.',
      body: Type.Object({ name: Name, accountSid: IdText('the Account SID (AC...)'), authToken: Secret('the Auth Token') }),
      response: { 201: AccountAnswer, ...errors(401, 403, 409, 422) },
    },
  }, async (request, reply) => reply.status(201).send(account(await channels.create({ provider: 'twilio-whatsapp', ...request.body }, actorOf(request)))));

  r.post(`${base}/line`, {
    config,
    schema: {
      tags,
      summary: 'Connect a LINE official account',
      description: `The account is its own channel instance. Parley checks the token (bot info) and sets the webhook endpoint through the LINE API. ${saved}`,
      body: Type.Object({
        name: Name,
        channelId: IdText('the numeric Channel ID'),
        channelSecret: Secret('the Channel secret'),
        channelAccessToken: Secret('the long-lived channel access token'),
      }),
      response: { 201: AccountAnswer, ...errors(401, 403, 409, 422) },
    },
  }, async (request, reply) => reply.status(201).send(account(await channels.create({ provider: 'line', ...request.body }, actorOf(request)))));

  r.get(`${base}/:accountId`, {
    config,
    schema: { tags, summary: 'One messaging account', params: AccountParams, response: { 200: AccountAnswer, ...errors(401, 403, 404) } },
  }, async (request) => account(await channels.get(request.params.accountId)));

  r.patch(`${base}/:accountId`, {
    config,
    schema: {
      tags,
      summary: 'Rename an account or replace its secret',
      description: `Give the secret of the account's provider (appSecret, authToken or channelSecret; for LINE also channelAccessToken). A new secret re-checks every channel instance of the account; their history stays. ${saved}`,
      params: AccountParams,
      body: Type.Object({
        name: Type.Optional(Name),
        appSecret: Type.Optional(Secret('Facebook: the App Secret')),
        authToken: Type.Optional(Secret('Twilio: the Auth Token')),
        channelSecret: Type.Optional(Secret('LINE: the Channel secret')),
        channelAccessToken: Type.Optional(Secret('LINE: the channel access token')),
      }),
      response: { 200: AccountAnswer, ...errors(401, 403, 404, 422) },
    },
  }, async (request) => {
    const { name, ...secrets } = request.body;
    const given = Object.fromEntries(Object.entries(secrets).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return account(await channels.update(request.params.accountId, { ...(name !== undefined ? { name } : {}), secrets: given }, actorOf(request)));
  });

  r.delete(`${base}/:accountId`, {
    config,
    schema: {
      tags,
      summary: 'Delete an account and its channel instances',
      description: 'Intake stops at once (their webhooks are answered 410); conversations and messages are kept.',
      params: AccountParams,
      response: { 204: Type.Null(), ...errors(401, 403, 404) },
    },
  }, async (request, reply) => {
    await channels.deleteAccount(request.params.accountId, actorOf(request));
    return reply.status(204).send(null);
  });

  r.post(`${base}/:accountId/pages`, {
    config,
    schema: {
      tags,
      summary: 'Add a Facebook page',
      description: `Parley generates the page's callback URL and verify token, checks the page access token, and subscribes the app to the page's messaging fields. A page already used by another channel instance is refused (409, naming it) and nothing is generated. ${saved}`,
      params: AccountParams,
      body: Type.Object({ name: Name, pageId: IdText('the numeric Page ID'), pageAccessToken: Secret('the Page access token') }),
      response: { 201: ChannelAnswer, ...errors(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => reply.status(201).send(channel(await channels.addChannel(request.params.accountId, { provider: 'facebook', ...request.body }, actorOf(request)))));

  r.post(`${base}/:accountId/numbers`, {
    config,
    schema: {
      tags,
      summary: 'Add a WhatsApp number',
      description: `Parley checks the account with Twilio and answers the inbound and status-callback URLs to paste into the sender in the Twilio Console (see manualSteps). A number already used by another channel instance is refused (409, naming it). ${saved}`,
      params: AccountParams,
      body: Type.Object({ name: Name, number: IdText('the WhatsApp number in E.164, with a leading + (e.g. +14155550199)') }),
      response: { 201: ChannelAnswer, ...errors(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => reply.status(201).send(channel(await channels.addChannel(request.params.accountId, { provider: 'twilio-whatsapp', ...request.body }, actorOf(request)))));

  r.get(`${base}/:accountId/channels/:channelId`, {
    config,
    schema: { tags, summary: 'One channel instance, with its status and webhook diagnostics', params: ChannelParams, response: { 200: ChannelAnswer, ...errors(401, 403, 404) } },
  }, async (request) => channel(await channels.getChannel(request.params.accountId, request.params.channelId)));

  r.patch(`${base}/:accountId/channels/:channelId`, {
    config,
    schema: { tags, summary: 'Rename a channel instance', params: ChannelParams, body: Type.Object({ name: Name }), response: { 200: ChannelAnswer, ...errors(401, 403, 404, 422) } },
  }, async (request) => channel(await channels.renameChannel(request.params.accountId, request.params.channelId, request.body.name, actorOf(request))));

  r.put(`${base}/:accountId/channels/:channelId/token`, {
    config,
    schema: {
      tags,
      summary: 'Replace the access token of a page or LINE account',
      description: `The channel instance keeps its id, callback URL, verify token, conversations and messages; the new token is checked and the provider wiring done again. WhatsApp numbers have no token of their own (replace the account's authToken). ${saved}`,
      params: ChannelParams,
      body: Type.Object({ token: Secret('the new page access token or channel access token') }),
      response: { 200: ChannelAnswer, ...errors(401, 403, 404, 422) },
    },
  }, async (request) => channel(await channels.replaceToken(request.params.accountId, request.params.channelId, request.body.token, actorOf(request))));

  r.post(`${base}/:accountId/channels/:channelId/check`, {
    config,
    schema: {
      tags,
      summary: 'Check a channel instance with its provider now',
      description: `The same check as after a save, wiring included (Parley also re-checks every channel periodically). ${saved}`,
      params: ChannelParams,
      response: { 200: ChannelAnswer, ...errors(401, 403, 404) },
    },
  }, async (request) => channel(await channels.recheck(request.params.accountId, request.params.channelId, actorOf(request))));

  r.delete(`${base}/:accountId/channels/:channelId`, {
    config,
    schema: {
      tags,
      summary: 'Delete a page or number',
      description: 'Intake stops at once (its webhooks are answered 410); its conversations and messages are kept. Deleting a LINE account\'s channel deletes the account.',
      params: ChannelParams,
      response: { 204: Type.Null(), ...errors(401, 403, 404) },
    },
  }, async (request, reply) => {
    await channels.deleteChannel(request.params.accountId, request.params.channelId, actorOf(request));
    return reply.status(204).send(null);
  });
}
