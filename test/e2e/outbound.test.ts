import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { recordAutomatedMessage } from '../../src/core/routing/records.ts';
import { DEMO } from '../../src/sandbox/demo.ts';
import { startSandboxedParley, type SandboxedParley } from '../helpers/sandbox.ts';
import { signedInClient, tokenClient, type ApiClient } from '../helpers/users.ts';
import { until } from '../helpers/wait.ts';

const FB = { channel: 'facebook' as const, to: DEMO.facebook.pageId, from: DEMO.facebook.customerPsid };
const WA = { channel: 'whatsapp' as const, to: DEMO.twilio.whatsappNumber.replace('whatsapp:', ''), from: DEMO.twilio.customerNumber.replace('whatsapp:', '') };
const LINE = { channel: 'line' as const, to: DEMO.line.channelId, from: DEMO.line.customerUserId };
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('outbound messages through the provider sandbox', () => {
  let env: SandboxedParley;
  let admin: ApiClient;
  let workstreamId: string;
  before(async () => {
    env = await startSandboxedParley();
    admin = await tokenClient(env.parley, 'admin');
    const ws = await db().insertInto('workstreams').values({ name: 'Support' }).returning('id').executeTakeFirstOrThrow();
    workstreamId = ws.id;
    await db().updateTable('channel_instances').set({ workstream_id: workstreamId }).execute();
    await db()
      .insertInto('workstream_templates')
      .values({ workstream_id: workstreamId, name: 'case_update', language: 'en', body: DEMO.twilio.templateBody, provider_template_id: DEMO.twilio.templateSid })
      .execute();
  });
  after(async () => {
    await env.close();
  });
  beforeEach(async () => {
    env.sandbox.reset({ keepSeeds: true });
    env.sandbox.clock.reset();
    // every test starts a new conversation, opened now, under default workstream settings
    await db().updateTable('conversations').set({ state: 'closed', closed_at: new Date() }).where('state', '<>', 'closed').execute();
    await db().updateTable('workstreams').set({ facebook_human_agent_tag: false, facebook_tag_enabled_at: null, agent_attachments: true }).execute();
    await db().updateTable('channel_instances').set({ status: 'running', status_reason: null, status_code: null }).execute();
  });

  function db() {
    return env.parley.database.db;
  }

  /** The customer writes; resolves with the id of their conversation once Parley has it. */
  async function customerWrites(who: typeof FB | typeof WA | typeof LINE, text = 'hello'): Promise<string> {
    const said = await env.sandbox.customer.say({ ...who, text });
    assert.equal(said.status, 200);
    const message = await until(() => db().selectFrom('messages').select('conversation_id').where('provider_message_id', '=', said.messageId).executeTakeFirst(), 8000, 'the inbound message');
    return message.conversation_id;
  }

  const send = (conversationId: string, body: unknown, headers?: Record<string, string>) => admin.call('POST', `/api/v1/conversations/${conversationId}/messages`, body, headers);

  async function status(messageId: string, expected: string | string[]) {
    const wanted = Array.isArray(expected) ? expected : [expected];
    return until(() => db().selectFrom('messages').selectAll().where('id', '=', messageId).where('status', 'in', wanted as never[]).executeTakeFirst(), 15_000, `message ${messageId} to be ${wanted.join('/')}`).catch(async (error) => {
      const row = await db().selectFrom('messages').select(['status', 'error_code', 'error_message']).where('id', '=', messageId).executeTakeFirst();
      throw new Error(`${(error as Error).message}: ${JSON.stringify(row)}`);
    });
  }

  async function upload(conversationId: string, bytes: Buffer, contentType: string, client = admin) {
    const response = await env.parley.request(`/api/v1/attachments?conversationId=${conversationId}&fileName=pixel.png`, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.token}`, 'content-type': contentType },
      body: bytes,
    });
    return { status: response.status, body: await response.json() as any };
  }

  async function setTag(on: boolean, enabledAt: Date | null) {
    await db().updateTable('workstreams').set({ facebook_human_agent_tag: on, facebook_tag_enabled_at: enabledAt }).where('id', '=', workstreamId).execute();
  }

  it('sends text to each provider and records the provider id', async () => {
    for (const who of [FB, WA, LINE]) {
      const conversationId = await customerWrites(who);
      const accepted = await send(conversationId, { text: `hi from ${who.channel}` });
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      assert.equal(accepted.body.status, 'pending');
      assert.equal(accepted.body.author, 'agent');
      assert.equal(accepted.body.authorUserId, admin.user.id);
      const sent = await status(accepted.body.id, ['sent', 'delivered', 'read']);
      assert.ok(sent.provider_message_id);
      assert.ok(sent.sent_at);
    }
    assert.equal(env.sandbox.facebook.messages.all().at(-1)!.message.text, 'hi from facebook');
    assert.equal(env.sandbox.facebook.messages.all().at(-1)!.messagingType, 'RESPONSE');
    assert.equal(env.sandbox.twilio.messages.all().at(-1)!.params.Body, 'hi from whatsapp');
    assert.deepEqual(env.sandbox.line.messages.all().at(-1)!.messages, [{ type: 'text', text: 'hi from line' }]);
  });

  it('an agent reply takes the Messenger thread back from another app, says so, and is sent', async () => {
    const conversationId = await customerWrites(FB);
    env.sandbox.facebook.setThreadOwner(FB.to, FB.from, '263902037430900');
    const accepted = await send(conversationId, { text: 'I can help with that' });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const sent = await status(accepted.body.id, ['sent', 'delivered', 'read']);
    assert.ok(sent.provider_message_id);
    assert.equal(env.sandbox.facebook.threadOwner(FB.to, FB.from), DEMO.facebook.appId);
    assert.equal(env.sandbox.facebook.messages.all().at(-1)!.message.text, 'I can help with that');
    assert.equal(env.sandbox.facebook.sent.all().filter((c) => c.path.endsWith('/take_thread_control')).length, 1);
    const notice = await db().selectFrom('messages').selectAll().where('conversation_id', '=', conversationId).where('kind', '=', 'notice').executeTakeFirstOrThrow();
    assert.equal(notice.author, 'system');
    assert.match(notice.text ?? '', /took control of the Messenger thread from another app/);
    assert.deepEqual(notice.content, { notice: 'thread_control_taken' });

    env.sandbox.facebook.setThreadOwner(FB.to, FB.from, '263902037430900');
    await db().transaction().execute((trx) => recordAutomatedMessage(trx, env.parley.database.notifier, conversationId, 'We are closed now', 'outside_hours'));
    const automated = await db().selectFrom('messages').select('id').where('conversation_id', '=', conversationId).where('author', '=', 'system').where('direction', '=', 'outbound').executeTakeFirstOrThrow();
    const failed = await status(automated.id, 'failed');
    assert.equal(failed.error_code, '10/2018300');
    assert.match(failed.error_message ?? '', /Another app controls this Messenger conversation/);
    assert.equal(env.sandbox.facebook.sent.all().filter((c) => c.path.endsWith('/take_thread_control')).length, 1, 'automated messages never take control');
    assert.equal(env.sandbox.facebook.threadOwner(FB.to, FB.from), '263902037430900');
  });

  it('sends an uploaded image to Messenger and WhatsApp from a signed, time-limited link', async () => {
    for (const who of [FB, WA]) {
      const conversationId = await customerWrites(who);
      const file = await upload(conversationId, PNG, 'image/png');
      assert.equal(file.status, 201, JSON.stringify(file.body));
      assert.equal(file.body.kind, 'image');
      const accepted = await send(conversationId, { text: 'here it is', attachmentIds: [file.body.id] });
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      assert.equal(accepted.body.attachments.length, 1);
      await status(accepted.body.id, ['sent', 'delivered', 'read']);
    }
    const urls = [
      (env.sandbox.facebook.messages.all().find((m) => m.message.attachment)!.message.attachment as { payload: { url: string } }).payload.url,
      env.sandbox.twilio.messages.all().at(-1)!.mediaUrls[0]!,
    ];
    assert.equal(env.sandbox.facebook.messages.all().length, 2, 'Messenger gets the text and the image as two sends');
    for (const url of urls) {
      assert.ok(url.startsWith(`${env.parley.config.publicUrl}/media/`), url);
      const fetched = await fetch(url);
      assert.equal(fetched.status, 200);
      assert.equal(fetched.headers.get('content-type'), 'image/png');
      assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), PNG);
      const forged = new URL(url);
      forged.searchParams.set('expires', String(Number(forged.searchParams.get('expires')) + 3600));
      assert.equal((await fetch(forged)).status, 403);
      const expired = new URL(url);
      expired.searchParams.set('expires', '1000');
      assert.equal((await fetch(expired)).status, 403);
    }
  });

  it('refuses agent attachments when the workstream turns them off, and provider limits before sending', async () => {
    const conversationId = await customerWrites(WA);
    const file = await upload(conversationId, PNG, 'image/png');
    assert.equal(file.status, 201);
    const gif = await upload(conversationId, Buffer.from('GIF89a'), 'image/gif');
    const refusedType = await send(conversationId, { attachmentIds: [gif.body.id] });
    assert.equal(refusedType.status, 422);
    assert.match(refusedType.body.error.message, /image\/gif/);
    const tooLong = await send(conversationId, { text: 'x'.repeat(1601) });
    assert.equal(tooLong.status, 422);
    assert.match(tooLong.body.error.message, /1600 characters/);

    await db().updateTable('workstreams').set({ agent_attachments: false }).execute();
    assert.equal((await upload(conversationId, PNG, 'image/png')).status, 403);
    const refused = await send(conversationId, { text: 'with a file', attachmentIds: [file.body.id] });
    assert.equal(refused.status, 403);

    const lineConversation = await customerWrites(LINE);
    await db().updateTable('workstreams').set({ agent_attachments: true }).execute();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await upload(lineConversation, PNG, 'image/png')).body.id);
    const tooMany = await send(lineConversation, { text: 'six parts', attachmentIds: ids });
    assert.equal(tooMany.status, 422);
    assert.match(tooMany.body.error.message, /at most 5 parts/);
    assert.equal(env.sandbox.twilio.messages.all().length + env.sandbox.line.messages.all().length, 0, 'nothing refused reached a provider');
  });

  it('an idempotency key makes a repeated request return the first message, sent once', async () => {
    const conversationId = await customerWrites(FB);
    const key = `click-${Date.now()}`;
    const [a, b] = await Promise.all([send(conversationId, { text: 'only once' }, { 'idempotency-key': key }), send(conversationId, { text: 'only once' }, { 'idempotency-key': key })]);
    const c = await send(conversationId, { text: 'only once' }, { 'idempotency-key': key });
    assert.deepEqual([a.status, b.status, c.status], [202, 202, 202]);
    assert.equal(a.body.id, b.body.id);
    assert.equal(a.body.id, c.body.id);
    assert.equal(c.headers.get('idempotent-replayed'), 'true');
    await status(a.body.id, ['sent', 'delivered', 'read']);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(env.sandbox.facebook.messages.all().filter((m) => m.message.text === 'only once').length, 1);
  });

  it('agents cannot send to conversations routing has not given them', async () => {
    const conversationId = await customerWrites(FB);
    const agent = await signedInClient(env.parley, 'agent');
    const refused = await agent.call('POST', `/api/v1/conversations/${conversationId}/messages`, { text: 'hi' });
    assert.equal(refused.status, 403);
    assert.equal((await agent.call('GET', `/api/v1/conversations/${conversationId}/session-window`)).status, 403);
  });

  it('retries after a provider 5xx and after a rate limit, keeping the conversation’s order', async () => {
    const conversationId = await customerWrites(FB);
    env.sandbox.facebook.injectFault({ kind: 'server-error', times: 1 });
    const ids = [];
    for (const text of ['first', 'second', 'third']) ids.push((await send(conversationId, { text })).body.id);
    for (const id of ids) await status(id, ['sent', 'delivered', 'read']);
    assert.deepEqual(env.sandbox.facebook.messages.all().map((m) => m.message.text), ['first', 'second', 'third']);
    const first = await db().selectFrom('messages').selectAll().where('id', '=', ids[0]!).executeTakeFirstOrThrow();
    assert.equal(first.attempts, 2);

    const waConversation = await customerWrites(WA);
    env.sandbox.twilio.injectFault({ kind: 'rate-limit', times: 2 });
    const waIds = [];
    for (const text of ['one', 'two', 'three']) waIds.push((await send(waConversation, { text })).body.id);
    for (const id of waIds) await status(id, ['sent', 'delivered', 'read']);
    assert.deepEqual(env.sandbox.twilio.messages.all().map((m) => m.params.Body), ['one', 'two', 'three']);
  });

  it('an expired token fails the message with the provider code and flags the channel', async () => {
    const conversationId = await customerWrites(FB);
    env.sandbox.facebook.injectFault({ kind: 'expired-token', times: 1 });
    const accepted = await send(conversationId, { text: 'will not go' });
    const failed = await status(accepted.body.id, 'failed');
    assert.match(failed.error_code!, /^190/);
    assert.match(failed.error_message!, /needs attention/);
    const channel = await db().selectFrom('channel_instances').select(['status', 'status_code']).where('id', '=', env.channels.facebook.id).executeTakeFirstOrThrow();
    assert.equal(channel.status, 'needs_attention');
    const shown = await admin.call('GET', `/api/v1/conversations/${conversationId}/messages`);
    const view = shown.body.messages.find((m: { id: string }) => m.id === accepted.body.id);
    assert.equal(view.status, 'failed');
    assert.match(view.error.code, /^190/);
  });

  it('WhatsApp: free-form inside 24 h; outside, free-form is refused (409) and a template is delivered', async () => {
    const conversationId = await customerWrites(WA);
    let window = await admin.call('GET', `/api/v1/conversations/${conversationId}/session-window`);
    assert.equal(window.body.state, 'open');
    assert.equal(window.body.allowed, 'free-form');
    env.sandbox.clock.advance(23 * HOUR + 59 * 60_000);
    const inside = await send(conversationId, { text: 'still inside' });
    assert.equal(inside.status, 202);
    await status(inside.body.id, ['sent', 'delivered', 'read']);

    env.sandbox.clock.advance(2 * 60_000);
    window = await admin.call('GET', `/api/v1/conversations/${conversationId}/session-window`);
    assert.equal(window.body.state, 'closed');
    assert.equal(window.body.allowed, 'template-only');
    assert.equal(window.body.templates.length, 1);
    const refused = await send(conversationId, { text: 'too late' });
    assert.equal(refused.status, 409);
    assert.match(refused.body.error.message, /Only approved templates/);

    const template = await send(conversationId, { template: { templateId: window.body.templates[0].id, variables: { 1: 'Jane', 2: '#42' } } });
    assert.equal(template.status, 202, JSON.stringify(template.body));
    assert.equal(template.body.text, 'Hello Jane, we have an update on your request #42.');
    assert.equal(template.body.kind, 'template');
    await status(template.body.id, 'read');
    const received = env.sandbox.twilio.messages.all().at(-1)!;
    assert.equal(received.contentSid, DEMO.twilio.templateSid);
    assert.deepEqual(JSON.parse(received.params.ContentVariables as string), { 1: 'Jane', 2: '#42' });
    assert.equal(env.sandbox.twilio.messages.all().filter((m) => m.params.Body === 'too late').length, 0);
  });

  it('status updates come back: sent → delivered → read, and failed with the provider code', async () => {
    const conversationId = await customerWrites(WA);
    const accepted = await send(conversationId, { text: 'track me' });
    const read = await status(accepted.body.id, 'read');
    assert.equal(read.error_code, null);

    env.sandbox.facebook.settings.autoRead = true;
    const fbConversation = await customerWrites(FB);
    const fb = await send(fbConversation, { text: 'read me' });
    await status(fb.body.id, 'read');

    env.sandbox.twilio.injectFault({ kind: 'outside-window', times: 1 });
    const undelivered = await send(conversationId, { text: 'refused later by WhatsApp' });
    const failed = await status(undelivered.body.id, 'failed');
    assert.equal(failed.error_code, '63016');
  });

  it('Facebook: 23 h replies as RESPONSE; 25 h with the tag off is refused', async () => {
    const conversationId = await customerWrites(FB);
    env.sandbox.clock.advance(23 * HOUR);
    const inside = await send(conversationId, { text: 'at 23 h' });
    assert.equal(inside.status, 202);
    await status(inside.body.id, ['sent', 'delivered', 'read']);
    assert.equal(env.sandbox.facebook.messages.all().at(-1)!.messagingType, 'RESPONSE');

    env.sandbox.clock.advance(2 * HOUR);
    const window = await admin.call('GET', `/api/v1/conversations/${conversationId}/session-window`);
    assert.equal(window.body.allowed, 'nothing');
    const refused = await send(conversationId, { text: 'at 25 h' });
    assert.equal(refused.status, 409);
    assert.match(refused.body.error.message, /tag is off/);
  });

  it('Facebook with the tag on: tagged HUMAN_AGENT at 25 h and 6 days, refused at 8 days', async () => {
    await setTag(true, new Date(Date.now() - DAY));
    const conversationId = await customerWrites(FB);
    for (const [at, text] of [[25 * HOUR, 'at 25 h'], [6 * DAY, 'at 6 days']] as const) {
      env.sandbox.clock.reset();
      env.sandbox.clock.advance(at);
      const window = await admin.call('GET', `/api/v1/conversations/${conversationId}/session-window`);
      assert.equal(window.body.allowed, 'tagged');
      assert.equal(window.body.facebookMode, 'HUMAN_AGENT');
      const accepted = await send(conversationId, { text });
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      await status(accepted.body.id, ['sent', 'delivered', 'read']);
      const received = env.sandbox.facebook.messages.all().at(-1)!;
      assert.equal(received.message.text, text);
      assert.equal(received.messagingType, 'MESSAGE_TAG');
      assert.equal(received.tag, 'HUMAN_AGENT');
    }
    env.sandbox.clock.reset();
    env.sandbox.clock.advance(8 * DAY);
    const refused = await send(conversationId, { text: 'at 8 days' });
    assert.equal(refused.status, 409);
  });

  it('Facebook: a tag turned on mid-conversation applies only once the conversation is closed and reopened', async () => {
    const conversationId = await customerWrites(FB);
    await new Promise((r) => setTimeout(r, 20));
    await setTag(true, new Date());
    env.sandbox.clock.advance(25 * HOUR);
    const refused = await send(conversationId, { text: 'tag came later' });
    assert.equal(refused.status, 409);
    assert.match(refused.body.error.message, /closed and reopened/);

    await db().updateTable('conversations').set({ state: 'closed', closed_at: new Date() }).where('id', '=', conversationId).execute();
    const reopened = await customerWrites(FB, 'back again');
    assert.notEqual(reopened, conversationId);
    env.sandbox.clock.advance(25 * HOUR);
    const accepted = await send(reopened, { text: 'now tagged' });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    await status(accepted.body.id, ['sent', 'delivered', 'read']);
    assert.equal(env.sandbox.facebook.messages.all().at(-1)!.tag, 'HUMAN_AGENT');
  });

  it('LINE: the reply token first, push once it is spent or expired', async () => {
    const conversationId = await customerWrites(LINE);
    const first = await send(conversationId, { text: 'by reply' });
    await status(first.body.id, 'sent');
    const second = await send(conversationId, { text: 'by push' });
    await status(second.body.id, 'sent');
    assert.deepEqual(env.sandbox.line.messages.all().map((m) => m.api), ['reply', 'push']);

    await customerWrites(LINE, 'again');
    env.sandbox.clock.advance(2 * 60_000);
    const late = await send(conversationId, { text: 'token expired' });
    await status(late.body.id, 'sent');
    const last = env.sandbox.line.messages.all().at(-1)!;
    assert.equal(last.api, 'push');
    assert.ok(last.retryKey, 'a push carries a retry key');
    const window = await admin.call('GET', `/api/v1/conversations/${conversationId}/session-window`);
    assert.equal(window.body.state, 'none');
  });

  it('announces status changes to the conversation’s listeners', async () => {
    const conversationId = await customerWrites(LINE);
    const heard: string[] = [];
    const stop = await env.parley.database.notifier.listen('parley_conversations', (payload) => heard.push(payload));
    try {
      const accepted = await send(conversationId, { text: 'announce me' });
      await status(accepted.body.id, 'sent');
      await until(() => heard.some((p) => p.includes(accepted.body.id) && p.includes('"status"')), 5000, 'the status announcement');
    } finally {
      await stop();
    }
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM jobs WHERE queue = 'outbound'`.execute(db());
    assert.equal(rows[0]!.n, 0, 'no delivery job is left behind');
  });
});

describe('outbound media to LINE', () => {
  // LINE accepts media only from HTTPS URLs, so this Parley's public URL is an https one
  let env: SandboxedParley;
  before(async () => {
    env = await startSandboxedParley({ publicUrl: 'https://parley.example.test' });
  });
  after(async () => {
    await env.close();
  });

  it('sends an uploaded image by reply, linked under the public URL', async () => {
    const admin = await tokenClient(env.parley, 'admin');
    const db = env.parley.database.db;
    const said = await env.sandbox.customer.say({ ...LINE, text: 'send me the picture' });
    const inbound = await until(() => db.selectFrom('messages').select('conversation_id').where('provider_message_id', '=', said.messageId).executeTakeFirst());
    const uploaded = await env.parley.request(`/api/v1/attachments?conversationId=${inbound.conversation_id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'image/png' },
      body: PNG,
    });
    assert.equal(uploaded.status, 201);
    const { id } = (await uploaded.json()) as { id: string };
    const accepted = await admin.call('POST', `/api/v1/conversations/${inbound.conversation_id}/messages`, { text: 'here', attachmentIds: [id] });
    assert.equal(accepted.status, 202);
    await until(() => db.selectFrom('messages').select('id').where('id', '=', accepted.body.id).where('status', '=', 'sent').executeTakeFirst());
    const received = env.sandbox.line.messages.all().at(-1)!;
    assert.equal(received.api, 'reply');
    const image = received.messages[1] as { type: string; originalContentUrl: string };
    assert.equal(image.type, 'image');
    const url = new URL(image.originalContentUrl);
    assert.equal(url.origin, 'https://parley.example.test');
    const fetched = await fetch(`${env.parley.url}${url.pathname}${url.search}`);
    assert.equal(fetched.status, 200);
    assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), PNG);
  });
});
