import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { markNeedsAttention } from '../../../src/core/channels/index.ts';
import { SUBSCRIBED_FIELDS } from '../../../src/providers/facebook/provisioning.ts';
import { DEMO } from '../../../src/sandbox/demo.ts';
import { startSandboxedParley, type SandboxedParley } from '../../helpers/sandbox.ts';
import { signedInClient, type ApiClient } from '../../helpers/users.ts';

/**
 * Messaging accounts as an admin connects them, through the API, with the provider sandbox
 * answering as Facebook, Twilio and LINE would.
 */
const BASE = '/api/v1/messaging-accounts';

async function until<T>(probe: () => Promise<T | undefined | null | false>, ms = 8000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - start > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let sequence = 0;
const digits = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join('').replace(/^0/, '1');
const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;
const hex32 = () => randomBytes(16).toString('hex');

describe('messaging accounts through the API, against the provider sandbox', () => {
  let env: SandboxedParley;
  let admin: ApiClient;
  before(async () => {
    env = await startSandboxedParley();
    admin = await signedInClient(env.parley, 'admin');
  });
  after(async () => {
    await env.close();
  });
  beforeEach(() => {
    env.sandbox.reset({ keepSeeds: true });
  });
  const db = () => env.parley.database.db;

  /** A Facebook app and page that exist at the sandbox (and nowhere in Parley yet). */
  function facebookAtSandbox() {
    const app = { appId: digits(15), appSecret: secret('fb-app-secret') };
    const page = { pageId: digits(15), pageAccessToken: `EAA${secret('page-token')}` };
    env.sandbox.facebook.seedApp({ appId: app.appId, appSecret: app.appSecret });
    env.sandbox.facebook.seedPage({ pageId: page.pageId, accessToken: page.pageAccessToken, appId: app.appId, name: `Page ${++sequence}`, subscribedFields: null });
    return { app, page };
  }
  async function facebookAccount(app: { appId: string; appSecret: string }) {
    const created = await admin.call('POST', `${BASE}/facebook`, { name: `Facebook app ${++sequence}`, ...app });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.account;
  }

  function twilioAtSandbox() {
    const account = { accountSid: `AC${hex32()}`, authToken: secret('twilio-auth-token') };
    const number = `+1415${digits(7)}`;
    env.sandbox.twilio.seedAccount({ sid: account.accountSid, authToken: account.authToken });
    env.sandbox.twilio.seedNumber({ accountSid: account.accountSid, number: `whatsapp:${number}` });
    return { account, number };
  }

  function lineAtSandbox() {
    const channel = { channelId: digits(10), channelSecret: secret('line-channel-secret'), channelAccessToken: secret('line-access-token') };
    env.sandbox.line.seedChannel({ channelId: channel.channelId, channelSecret: channel.channelSecret, accessToken: channel.channelAccessToken, botUserId: `U${hex32()}` });
    return channel;
  }

  describe('Facebook', () => {
    it('an app and a page: the token is checked, the app subscribed to the page, a callback URL and verify token generated', async () => {
      const { app, page } = facebookAtSandbox();
      const account = await facebookAccount(app);
      assert.equal(account.provider, 'facebook');
      assert.equal(account.externalId, app.appId);
      assert.equal(account.secretHint, `••••${app.appSecret.slice(-4)}`);
      assert.deepEqual(account.channels, []);

      const added = await admin.call('POST', `${BASE}/${account.id}/pages`, { name: 'Support', ...page });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      const channel = added.body.channel;
      assert.equal(channel.status, 'running', channel.statusReason);
      assert.equal(channel.kind, 'page');
      assert.equal(channel.externalId, page.pageId);
      assert.equal(channel.tokenHint, `••••${page.pageAccessToken.slice(-4)}`);
      assert.ok(channel.checkedAt);
      assert.match(channel.webhook.callbackUrl, new RegExp(`^${env.parley.config.publicUrl}/webhooks/facebook/[a-z0-9]+$`));
      assert.match(channel.webhook.verifyToken, /^[A-Za-z0-9]{32}$/, 'only characters no provider rewrites');
      assert.ok(channel.manualSteps.some((step: string) => step.includes(channel.webhook.callbackUrl)), 'the dashboard step names the callback URL');
      // the app was subscribed to the page's messaging fields, at the provider
      assert.deepEqual(env.sandbox.facebook.pages.get(page.pageId)!.subscribedFields, SUBSCRIBED_FIELDS);
      assert.ok(env.sandbox.facebook.sent.all().some((s) => s.method === 'POST' && s.path.endsWith(`/${page.pageId}/subscribed_apps`) && s.status === 200));
      // PUBLIC_URL here is plain http: said, with what to do
      assert.deepEqual(added.body.warnings.map((w: { code: string }) => w.code), ['public_url_not_https']);

      const read = await admin.call('GET', `${BASE}/${account.id}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.account.channels[0].id, channel.id);
      assert.equal(read.body.account.channels[0].webhook.verifyToken, channel.webhook.verifyToken);
    });

    it('the callback handshake answers the challenge with the generated verify token, and 403 with another', async () => {
      const { app, page } = facebookAtSandbox();
      const account = await facebookAccount(app);
      const { channel } = (await admin.call('POST', `${BASE}/${account.id}/pages`, { name: 'Sales', ...page })).body;
      const url = new URL(channel.webhook.callbackUrl);
      const handshake = (token: string) => fetch(`${env.parley.url}${url.pathname}?hub.mode=subscribe&hub.challenge=8675309&hub.verify_token=${token}`);
      const good = await handshake(channel.webhook.verifyToken);
      assert.equal(good.status, 200);
      assert.equal(await good.text(), '8675309');
      assert.equal((await handshake('not-the-token')).status, 403);

      // as the admin does in the Meta App Dashboard: Meta verifies the callback before accepting it
      const subscribe = (token: string) =>
        fetch(`${env.sandbox.urls.facebookGraph}/v25.0/${app.appId}/subscriptions?${new URLSearchParams({ object: 'page', callback_url: channel.webhook.callbackUrl, verify_token: token, fields: SUBSCRIBED_FIELDS.join(','), access_token: `${app.appId}|${app.appSecret}` })}`, { method: 'POST' });
      assert.equal((await subscribe('wrong-token')).status, 400);
      const accepted = await subscribe(channel.webhook.verifyToken);
      assert.equal(accepted.status, 200, await accepted.clone().text());
      // and from then on the page's messages reach Parley
      env.sandbox.facebook.seedUser({ psid: '3000000000009999', pageId: page.pageId });
      const said = await env.sandbox.customer.say({ channel: 'facebook', to: page.pageId, from: '3000000000009999', text: 'hello page' });
      assert.equal(said.status, 200);
      await until(() => db().selectFrom('messages').select('id').where('channel_id', '=', channel.id).where('provider_message_id', '=', said.messageId).executeTakeFirst());
    });

    it('a refused page token still saves the page, as needing attention with the Graph error code; a new token fixes it and keeps the page', async () => {
      const { app, page } = facebookAtSandbox();
      const account = await facebookAccount(app);
      const added = await admin.call('POST', `${BASE}/${account.id}/pages`, { name: 'Wrong token', ...page, pageAccessToken: 'EAA-not-a-token-of-this-page' });
      assert.equal(added.status, 201);
      const channel = added.body.channel;
      assert.equal(channel.status, 'needs_attention');
      assert.equal(channel.statusCode, '190');
      assert.match(channel.statusReason, /^Facebook refused the credentials \(error 190/);
      assert.ok(channel.manualSteps.some((s: string) => /new Page access token/.test(s)), channel.manualSteps.join('\n'));
      assert.equal(env.sandbox.facebook.pages.get(page.pageId)!.subscribedFields, null, 'nothing subscribed with a refused token');

      const replaced = await admin.call('PUT', `${BASE}/${account.id}/channels/${channel.id}/token`, { token: page.pageAccessToken });
      assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
      assert.equal(replaced.body.channel.id, channel.id);
      assert.equal(replaced.body.channel.status, 'running');
      assert.equal(replaced.body.channel.statusCode, null);
      assert.equal(replaced.body.channel.webhook.callbackUrl, channel.webhook.callbackUrl, 'the callback URL stays');
      assert.equal(replaced.body.channel.webhook.verifyToken, channel.webhook.verifyToken, 'the verify token stays');
      assert.equal(replaced.body.channel.tokenHint, `••••${page.pageAccessToken.slice(-4)}`);
      const audited = await db().selectFrom('audit_log').select(['action', 'actor_label']).where('target_id', '=', channel.id).orderBy('id').execute();
      assert.deepEqual(audited.map((a) => a.action), ['channel.page.created', 'channel.status_changed', 'channel.page.token_replaced', 'channel.status_changed']);
    });

    it('a page already used by another channel instance is refused, naming it, and nothing is generated', async () => {
      const { app } = facebookAtSandbox();
      const account = await facebookAccount(app);
      const before = await db().selectFrom('channel_instances').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
      const taken = await admin.call('POST', `${BASE}/${account.id}/pages`, { name: 'Copy', pageId: DEMO.facebook.pageId, pageAccessToken: DEMO.facebook.pageAccessToken });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.error.code, 'conflict');
      assert.match(taken.body.error.message, new RegExp(`page ${DEMO.facebook.pageId} is already used by the channel instance "${DEMO.facebook.pageName}"`));
      assert.equal(taken.body.error.holder.id, env.channels.facebook.id);
      assert.equal(taken.body.error.holder.name, DEMO.facebook.pageName);
      const after = await db().selectFrom('channel_instances').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
      assert.equal(after.n, before.n);
      assert.equal(env.sandbox.facebook.sent.length, 0, 'the provider was not even asked');
    });

    it('the periodic re-check flags a page whose token expired, and sets it running again once the token works', async () => {
      const { app, page } = facebookAtSandbox();
      const account = await facebookAccount(app);
      const { channel } = (await admin.call('POST', `${BASE}/${account.id}/pages`, { name: 'Expiring', ...page })).body;
      assert.equal(channel.status, 'running');
      const fault = env.sandbox.facebook.injectFault({ kind: 'expired-token', match: { token: page.pageAccessToken } });
      await env.parley.channels.recheckAll();
      const flagged = (await admin.call('GET', `${BASE}/${account.id}/channels/${channel.id}`)).body.channel;
      assert.equal(flagged.status, 'needs_attention');
      assert.equal(flagged.statusCode, '190');
      assert.match(flagged.statusReason, /expired|Session has expired/i);
      assert.ok(flagged.statusChangedAt);
      env.sandbox.facebook.faults.remove(fault.id);
      await env.parley.channels.recheckAll();
      const back = (await admin.call('GET', `${BASE}/${account.id}/channels/${channel.id}`)).body.channel;
      assert.equal(back.status, 'running');
      assert.equal(back.statusReason, null);
    });

    it('deleting a page stops its intake (410) and keeps its conversations and messages', async () => {
      const { app, page } = facebookAtSandbox();
      const account = await facebookAccount(app);
      const { channel } = (await admin.call('POST', `${BASE}/${account.id}/pages`, { name: 'Closing', ...page })).body;
      env.sandbox.facebook.setCallback(app.appId, channel.webhook.callbackUrl);
      env.sandbox.facebook.seedUser({ psid: '3000000000008888', pageId: page.pageId });
      const said = await env.sandbox.customer.say({ channel: 'facebook', to: page.pageId, from: '3000000000008888', text: 'before the delete' });
      const message = await until(() => db().selectFrom('messages').select(['id', 'conversation_id']).where('provider_message_id', '=', said.messageId).executeTakeFirst());

      const deleted = await admin.call('DELETE', `${BASE}/${account.id}/channels/${channel.id}`);
      assert.equal(deleted.status, 204);
      const late = await fetch(channel.webhook.callbackUrl.replace(env.parley.config.publicUrl!, env.parley.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(late.status, 410);
      assert.ok(await db().selectFrom('messages').select('id').where('id', '=', message.id).executeTakeFirst(), 'the message stays');
      assert.ok(await db().selectFrom('conversations').select('id').where('id', '=', message.conversation_id).executeTakeFirst(), 'the conversation stays');
      assert.equal((await admin.call('GET', `${BASE}/${account.id}/channels/${channel.id}`)).status, 404);
      assert.deepEqual((await admin.call('GET', `${BASE}/${account.id}`)).body.account.channels, []);
      // the page is free again: a new channel instance, with a new callback URL and verify token
      const again = await admin.call('POST', `${BASE}/${account.id}/pages`, { name: 'Reopened', ...page });
      assert.equal(again.status, 201);
      assert.notEqual(again.body.channel.webhook.callbackUrl, channel.webhook.callbackUrl);
    });
  });

  describe('WhatsApp through Twilio', () => {
    it('an account and a number: the credentials are checked, the URLs to paste are given', async () => {
      const { account: credentials, number } = twilioAtSandbox();
      const created = await admin.call('POST', `${BASE}/twilio-whatsapp`, { name: 'Twilio', ...credentials });
      assert.equal(created.status, 201);
      assert.equal(created.body.account.secretHint, `••••${credentials.authToken.slice(-4)}`);
      const added = await admin.call('POST', `${BASE}/${created.body.account.id}/numbers`, { name: 'Support line', number });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      const channel = added.body.channel;
      assert.equal(channel.status, 'running', channel.statusReason);
      assert.equal(channel.kind, 'number');
      assert.equal(channel.externalId, number);
      assert.equal(channel.tokenHint, null);
      assert.equal(channel.webhook.statusCallbackUrl, `${channel.webhook.callbackUrl}/status`);
      assert.equal(channel.webhook.verifyToken, undefined);
      assert.ok(channel.manualSteps.some((s: string) => s.includes(channel.webhook.callbackUrl) && s.includes(number)));
      assert.ok(channel.manualSteps.some((s: string) => s.includes(channel.webhook.statusCallbackUrl)));
      assert.ok(env.sandbox.twilio.sent.all().some((s) => s.method === 'GET' && s.path.endsWith(`/Accounts/${credentials.accountSid}.json`) && s.status === 200));

      // pasted by hand as the steps say, the number's messages arrive
      env.sandbox.twilio.configureNumber(number, { inboundUrl: channel.webhook.callbackUrl, statusUrl: channel.webhook.statusCallbackUrl });
      const said = await env.sandbox.customer.say({ channel: 'whatsapp', to: number, from: '+14155550123', text: 'hola' });
      assert.equal(said.status, 200);
      await until(() => db().selectFrom('messages').select('id').where('channel_id', '=', channel.id).executeTakeFirst());
    });

    it('a wrong auth token leaves the number needing attention with Twilio 20003; the right one sets it running', async () => {
      const { account: credentials, number } = twilioAtSandbox();
      const created = await admin.call('POST', `${BASE}/twilio-whatsapp`, { name: 'Twilio typo', accountSid: credentials.accountSid, authToken: 'not-the-auth-token' });
      const accountId = created.body.account.id;
      const { channel } = (await admin.call('POST', `${BASE}/${accountId}/numbers`, { name: 'Typo line', number })).body;
      assert.equal(channel.status, 'needs_attention');
      assert.equal(channel.statusCode, '20003');
      assert.match(channel.statusReason, /^Twilio refused the credentials \(error 20003\)/);
      assert.ok(channel.manualSteps.some((s: string) => s.includes(channel.webhook.callbackUrl)), 'the paste steps are still given');

      const fixed = await admin.call('PATCH', `${BASE}/${accountId}`, { authToken: credentials.authToken });
      assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
      assert.equal(fixed.body.account.channels[0].id, channel.id);
      assert.equal(fixed.body.account.channels[0].status, 'running');
      assert.equal(fixed.body.account.secretHint, `••••${credentials.authToken.slice(-4)}`);
      const actions = (await db().selectFrom('audit_log').select('action').where('target_id', '=', accountId).execute()).map((a) => a.action);
      assert.deepEqual(actions, ['channel.account.created', 'channel.account.secret_replaced']);
    });

    it('numbers must be E.164 with a leading +, and one live channel instance per number', async () => {
      const { account: credentials } = twilioAtSandbox();
      const accountId = (await admin.call('POST', `${BASE}/twilio-whatsapp`, { name: 'Numbers', ...credentials })).body.account.id;
      for (const wrong of ['14155550199', '+1 415 555 0199', 'whatsapp:+14155550199', '+0123456789', '+1']) {
        const refused = await admin.call('POST', `${BASE}/${accountId}/numbers`, { name: 'x', number: wrong });
        assert.equal(refused.status, 422, wrong);
        assert.equal(refused.body.error.field, 'number');
        assert.match(refused.body.error.message, /E\.164/);
      }
      const demoNumber = DEMO.twilio.whatsappNumber.replace('whatsapp:', '');
      const taken = await admin.call('POST', `${BASE}/${accountId}/numbers`, { name: 'Copy', number: demoNumber });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.error.holder.id, env.channels.whatsapp.id);
      assert.match(taken.body.error.message, new RegExp(`WhatsApp number \\${demoNumber} is already used`));
      // a number belongs under a Twilio account, not a Facebook one
      const { app } = facebookAtSandbox();
      const facebook = await facebookAccount(app);
      const misplaced = await admin.call('POST', `${BASE}/${facebook.id}/numbers`, { name: 'x', number: '+14155550111' });
      assert.equal(misplaced.status, 409);
      assert.match(misplaced.body.error.message, /is a Facebook account; add pages to it/);
    });

    it('the periodic re-check flags a number whose account credentials stopped working', async () => {
      const { account: credentials, number } = twilioAtSandbox();
      const accountId = (await admin.call('POST', `${BASE}/twilio-whatsapp`, { name: 'Recheck', ...credentials })).body.account.id;
      const { channel } = (await admin.call('POST', `${BASE}/${accountId}/numbers`, { name: 'Line', number })).body;
      assert.equal(channel.status, 'running');
      env.sandbox.twilio.injectFault({ kind: 'expired-token', match: { token: credentials.accountSid } });
      await env.parley.channels.recheckAll();
      const flagged = (await admin.call('GET', `${BASE}/${accountId}/channels/${channel.id}`)).body.channel;
      assert.equal(flagged.status, 'needs_attention');
      assert.equal(flagged.statusCode, '20003');
    });

    it('a provider that is down for a moment does not flip a running number', async () => {
      const { account: credentials, number } = twilioAtSandbox();
      const accountId = (await admin.call('POST', `${BASE}/twilio-whatsapp`, { name: 'Flaky', ...credentials })).body.account.id;
      const { channel } = (await admin.call('POST', `${BASE}/${accountId}/numbers`, { name: 'Line', number })).body;
      env.sandbox.twilio.injectFault({ kind: 'server-error', match: { token: credentials.accountSid } });
      await env.parley.channels.recheckAll();
      const still = (await admin.call('GET', `${BASE}/${accountId}/channels/${channel.id}`)).body.channel;
      assert.equal(still.status, 'running');
      assert.ok(new Date(still.checkedAt) > new Date(channel.checkedAt));
    });

    it('deleting the account stops intake for its numbers and keeps their messages', async () => {
      const { account: credentials, number } = twilioAtSandbox();
      const accountId = (await admin.call('POST', `${BASE}/twilio-whatsapp`, { name: 'Closing', ...credentials })).body.account.id;
      const { channel } = (await admin.call('POST', `${BASE}/${accountId}/numbers`, { name: 'Line', number })).body;
      env.sandbox.twilio.configureNumber(number, { inboundUrl: channel.webhook.callbackUrl });
      const said = await env.sandbox.customer.say({ channel: 'whatsapp', to: number, from: '+14155550124', text: 'before' });
      const message = await until(() => db().selectFrom('messages').select('id').where('provider_message_id', '=', said.messageId).executeTakeFirst());
      assert.equal((await admin.call('DELETE', `${BASE}/${accountId}`)).status, 204);
      const late = await env.sandbox.customer.say({ channel: 'whatsapp', to: number, from: '+14155550124', text: 'after' });
      assert.equal(late.status, 410);
      assert.ok(await db().selectFrom('messages').select('id').where('id', '=', message.id).executeTakeFirst());
      assert.equal((await admin.call('GET', `${BASE}/${accountId}`)).status, 404);
      assert.ok(!(await admin.call('GET', BASE)).body.accounts.some((a: { id: string }) => a.id === accountId));
      const audit = await db().selectFrom('audit_log').select('details').where('action', '=', 'channel.account.deleted').where('target_id', '=', accountId).executeTakeFirstOrThrow();
      assert.deepEqual((audit.details as { channelIds: string[] }).channelIds, [channel.id]);
    });
  });

  describe('LINE', () => {
    it('an account is its own channel: the token is checked and the webhook endpoint set through the LINE API', async () => {
      const line = lineAtSandbox();
      const created = await admin.call('POST', `${BASE}/line`, { name: 'LINE support', ...line });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const { account } = created.body;
      assert.equal(account.secretHint, `••••${line.channelSecret.slice(-4)}`);
      assert.equal(account.channels.length, 1);
      const [channel] = account.channels;
      assert.equal(channel.kind, 'line_account');
      assert.equal(channel.externalId, line.channelId);
      assert.equal(channel.status, 'running', channel.statusReason);
      assert.equal(channel.tokenHint, `••••${line.channelAccessToken.slice(-4)}`);
      assert.equal(env.sandbox.line.channels.get(line.channelId)!.webhookEndpoint, channel.webhook.callbackUrl);
      assert.ok(channel.manualSteps.some((s: string) => /Use webhook/.test(s)));

      const said = await env.sandbox.customer.say({ channel: 'line', to: line.channelId, from: `U${hex32()}`, text: 'こんにちは' });
      assert.equal(said.status, 200);
      await until(() => db().selectFrom('messages').select('id').where('channel_id', '=', channel.id).executeTakeFirst());
    });

    it('a refused channel access token is saved as needing attention with LINE\'s reason; replacing it re-checks the same channel', async () => {
      const line = lineAtSandbox();
      const created = await admin.call('POST', `${BASE}/line`, { name: 'LINE typo', ...line, channelAccessToken: 'not-the-token' });
      assert.equal(created.status, 201);
      const [channel] = created.body.account.channels;
      assert.equal(channel.status, 'needs_attention');
      assert.ok(channel.statusCode);
      assert.match(channel.statusReason, /^LINE refused the credentials/);
      assert.ok(channel.manualSteps.some((s: string) => /new channel access token/.test(s)));

      const fixed = await admin.call('PATCH', `${BASE}/${created.body.account.id}`, { channelAccessToken: line.channelAccessToken });
      assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
      assert.equal(fixed.body.account.channels[0].id, channel.id);
      assert.equal(fixed.body.account.channels[0].status, 'running');
      assert.equal(fixed.body.account.channels[0].webhook.callbackUrl, channel.webhook.callbackUrl);

      const again = secret('line-access-token-2');
      env.sandbox.line.channels.get(line.channelId)!.accessToken = again;
      const replaced = await admin.call('PUT', `${BASE}/${created.body.account.id}/channels/${channel.id}/token`, { token: again });
      assert.equal(replaced.status, 200);
      assert.equal(replaced.body.channel.status, 'running');
      assert.equal(replaced.body.channel.tokenHint, `••••${again.slice(-4)}`);
    });

    it('a LINE channel already connected is refused, naming the holder, and no account is created', async () => {
      const before = (await admin.call('GET', `${BASE}?provider=line`)).body.accounts.length;
      const taken = await admin.call('POST', `${BASE}/line`, { name: 'Copy', channelId: DEMO.line.channelId, channelSecret: DEMO.line.channelSecret, channelAccessToken: DEMO.line.accessToken });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.error.holder.id, env.channels.line.id);
      assert.equal((await admin.call('GET', `${BASE}?provider=line`)).body.accounts.length, before);
    });

    it('the periodic re-check flags an expired channel access token', async () => {
      const line = lineAtSandbox();
      const { account } = (await admin.call('POST', `${BASE}/line`, { name: 'Expiring', ...line })).body;
      env.sandbox.line.injectFault({ kind: 'expired-token', match: { token: line.channelAccessToken } });
      await env.parley.channels.recheckAll();
      const [channel] = (await admin.call('GET', `${BASE}/${account.id}`)).body.account.channels;
      assert.equal(channel.status, 'needs_attention');
      assert.match(channel.statusReason, /^LINE refused the credentials/);
    });

    it('deleting the LINE account answers its webhooks 410 and keeps its messages', async () => {
      const line = lineAtSandbox();
      const { account } = (await admin.call('POST', `${BASE}/line`, { name: 'Closing', ...line })).body;
      const customer = `U${hex32()}`;
      const said = await env.sandbox.customer.say({ channel: 'line', to: line.channelId, from: customer, text: 'before' });
      const message = await until(() => db().selectFrom('messages').select('id').where('provider_message_id', '=', said.messageId).executeTakeFirst());
      assert.equal((await admin.call('DELETE', `${BASE}/${account.id}/channels/${account.channels[0].id}`)).status, 204);
      const late = await env.sandbox.customer.say({ channel: 'line', to: line.channelId, from: customer, text: 'after' });
      assert.equal(late.status, 410);
      assert.ok(await db().selectFrom('messages').select('id').where('id', '=', message.id).executeTakeFirst());
      assert.equal((await admin.call('GET', `${BASE}/${account.id}`)).status, 404);
    });
  });

  describe('for all providers', () => {
    it('secrets are write-only: answers show hints, the database holds them sealed, the audit log never sees them', async () => {
      const { app, page } = facebookAtSandbox();
      const twilio = twilioAtSandbox();
      const line = lineAtSandbox();
      const facebook = await facebookAccount(app);
      const answers = [facebook];
      answers.push((await admin.call('POST', `${BASE}/${facebook.id}/pages`, { name: 'Secret page', ...page })).body);
      const tw = (await admin.call('POST', `${BASE}/twilio-whatsapp`, { name: 'Secret Twilio', ...twilio.account })).body;
      answers.push(tw, (await admin.call('POST', `${BASE}/${tw.account.id}/numbers`, { name: 'n', number: twilio.number })).body);
      const ln = (await admin.call('POST', `${BASE}/line`, { name: 'Secret LINE', ...line })).body;
      answers.push(ln);
      const newToken = `EAA${secret('replacement-token')}`;
      const channelId = answers[1].channel.id;
      answers.push((await admin.call('PUT', `${BASE}/${facebook.id}/channels/${channelId}/token`, { token: newToken })).body);
      answers.push((await admin.call('PATCH', `${BASE}/${tw.account.id}`, { authToken: secret('another-auth-token') })).body);
      answers.push((await admin.call('GET', BASE)).body, (await admin.call('GET', `${BASE}/${ln.account.id}`)).body);
      answers.push((await admin.call('GET', '/api/v1/audit-log?action=channel.')).body);

      const secrets = [app.appSecret, page.pageAccessToken, twilio.account.authToken, line.channelSecret, line.channelAccessToken, newToken];
      const tables = ['messaging_accounts', 'channel_instances', 'audit_log', 'jobs'] as const;
      for (const value of secrets) {
        for (const answer of answers) assert.ok(!JSON.stringify(answer).includes(value), `an API answer shows ${value}`);
        for (const table of tables) {
          const rows = await sql<{ row: string }>`SELECT t::text AS row FROM ${sql.table(table)} t`.execute(db());
          assert.ok(!rows.rows.some((r) => r.row.includes(value)), `${table} holds ${value} in plain text`);
        }
      }
      const sealed = await db().selectFrom('messaging_accounts').select('secret_sealed').where('id', '=', facebook.id).executeTakeFirstOrThrow();
      assert.match(sealed.secret_sealed, /^v1\./);
      assert.equal(env.parley.secrets.open(sealed.secret_sealed), app.appSecret);
    });

    it('validation errors are 422 naming the field and the reason', async () => {
      const cases: [string, unknown, string, RegExp][] = [
        ['facebook', { name: 'x', appId: '123' }, 'appSecret', /required/],
        ['facebook', { name: 'x', appId: 'my-app', appSecret: 's3cret' }, 'appId', /numeric App ID/],
        ['facebook', { name: '   ', appId: '123', appSecret: 's3cret' }, 'name', /must not be empty/],
        ['facebook', { name: 'x', appId: '123', appSecret: 'two words' }, 'appSecret', /spaces/],
        ['twilio-whatsapp', { name: 'x', accountSid: 'SK123', authToken: 't' }, 'accountSid', /Account SID/],
        ['line', { name: 'x', channelId: '123', channelSecret: 's' }, 'channelAccessToken', /required/],
      ];
      for (const [provider, body, field, reason] of cases) {
        const answer = await admin.call('POST', `${BASE}/${provider}`, body);
        assert.equal(answer.status, 422, `${provider} ${JSON.stringify(body)}`);
        assert.equal(answer.body.error.code, 'validation_failed');
        assert.equal(answer.body.error.field, field, JSON.stringify(answer.body));
        assert.match(answer.body.error.message, reason);
      }
      const { app } = facebookAtSandbox();
      const account = await facebookAccount(app);
      const wrongSecret = await admin.call('PATCH', `${BASE}/${account.id}`, { authToken: 'abc' });
      assert.equal(wrongSecret.status, 422);
      assert.equal(wrongSecret.body.error.field, 'authToken');
      const misplaced = await admin.call('PATCH', `${BASE}/${account.id}`, { name: 'Renamed', channelAccessToken: 'abc' });
      assert.equal(misplaced.status, 422);
      assert.equal(misplaced.body.error.field, 'channelAccessToken');
      assert.equal((await admin.call('GET', `${BASE}/${account.id}`)).body.account.name, account.name, 'a refused change changes nothing');
      const noPage = await admin.call('POST', `${BASE}/${account.id}/pages`, { name: 'x', pageId: 'facebook.com/mypage', pageAccessToken: 't' });
      assert.equal(noPage.body.error.field, 'pageId');
      assert.equal((await admin.call('GET', `${BASE}/not-an-id`)).status, 404);
    });

    it('agents and supervisors can neither read nor change messaging accounts', async () => {
      for (const role of ['agent', 'supervisor'] as const) {
        const client = await signedInClient(env.parley, role);
        assert.equal((await client.call('GET', BASE)).status, 403);
        assert.equal((await client.call('POST', `${BASE}/line`, { name: 'x', channelId: '1', channelSecret: 'a', channelAccessToken: 'b' })).status, 403);
      }
    });

    it('webhook diagnostics per channel: last webhook, last signature failure and why, counts of the last hour', async () => {
      const line = lineAtSandbox();
      const { account } = (await admin.call('POST', `${BASE}/line`, { name: 'Diagnostics', ...line })).body;
      const [channel] = account.channels;
      // LINE calls the endpoint once (an empty, signed POST) when Parley sets it
      assert.deepEqual(channel.diagnostics.lastHour, { accepted: 1, rejected: 0 });
      assert.ok(channel.diagnostics.lastWebhookAt);
      assert.equal(channel.diagnostics.lastSignatureFailure, null);
      await env.sandbox.customer.say({ channel: 'line', to: line.channelId, from: `U${hex32()}`, text: 'counted' });
      const forged = await fetch(channel.webhook.callbackUrl.replace(env.parley.config.publicUrl!, env.parley.url), { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': 'AAAA' }, body: '{"events":[]}' });
      assert.equal(forged.status, 403);
      const seen = (await admin.call('GET', `${BASE}/${account.id}/channels/${channel.id}`)).body.channel.diagnostics;
      assert.ok(seen.lastWebhookAt);
      assert.match(seen.lastSignatureFailure.reason, /signature does not match/);
      assert.deepEqual(seen.lastHour, { accepted: 2, rejected: 1 });
    });

    it('markNeedsAttention flags a channel for code that met an auth error, audited, visible in the API', async () => {
      const line = lineAtSandbox();
      const { account } = (await admin.call('POST', `${BASE}/line`, { name: 'Flagged', ...line })).body;
      const [channel] = account.channels;
      await db().transaction().execute((trx) => markNeedsAttention(trx, channel.id, { message: 'LINE refused the token while sending (401)', code: '401' }));
      const flagged = (await admin.call('GET', `${BASE}/${account.id}/channels/${channel.id}`)).body.channel;
      assert.equal(flagged.status, 'needs_attention');
      assert.equal(flagged.statusCode, '401');
      const entry = await db().selectFrom('audit_log').select(['actor_label', 'details']).where('action', '=', 'channel.status_changed').where('target_id', '=', channel.id).orderBy('id', 'desc').executeTakeFirstOrThrow();
      assert.equal(entry.actor_label, 'channel check');
      assert.deepEqual(entry.details, { from: 'running', to: 'needs_attention', reason: 'LINE refused the token while sending (401)', code: '401' });
      // the check now (or the periodic one) sets it running again once the provider agrees
      const checked = await admin.call('POST', `${BASE}/${account.id}/channels/${channel.id}/check`);
      assert.equal(checked.body.channel.status, 'running');
    });

    it('the re-check runs as a recurring job', async () => {
      const job = await db().selectFrom('jobs').select(['queue', 'run_at']).where('queue', '=', 'channels.recheck').executeTakeFirst();
      assert.ok(job, 'scheduled at start');
    });
  });
});

describe('messaging accounts without PUBLIC_URL', () => {
  it('the account is saved; its channel needs attention and the answer says what to set', async () => {
    const env = await startSandboxedParley({ publicUrl: undefined });
    try {
      const admin = await signedInClient(env.parley, 'admin');
      const channel = { channelId: digits(10), channelSecret: secret('line-channel-secret'), channelAccessToken: secret('line-access-token') };
      env.sandbox.line.seedChannel({ channelId: channel.channelId, channelSecret: channel.channelSecret, accessToken: channel.channelAccessToken, botUserId: `U${hex32()}` });
      const created = await admin.call('POST', `${BASE}/line`, { name: 'No URL', ...channel });
      assert.equal(created.status, 201);
      assert.deepEqual(created.body.warnings.map((w: { code: string }) => w.code), ['public_url_missing']);
      assert.match(created.body.warnings[0].message, /Set PUBLIC_URL/);
      const [instance] = created.body.account.channels;
      assert.equal(instance.webhook.callbackUrl, null);
      assert.equal(instance.status, 'needs_attention');
      assert.equal(instance.statusCode, 'public_url_missing');
    } finally {
      await env.close();
    }
  });
});
