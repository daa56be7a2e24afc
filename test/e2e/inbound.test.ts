import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../helpers/wait.ts';
import { sql } from 'kysely';
import { DEMO } from '../../src/sandbox/demo.ts';
import { onPostgres } from '../helpers/db.ts';
import { startSandboxedParley, type SandboxedParley } from '../helpers/sandbox.ts';


const FB = { channel: 'facebook' as const, to: DEMO.facebook.pageId, from: DEMO.facebook.customerPsid };
const WA = { channel: 'whatsapp' as const, to: DEMO.twilio.whatsappNumber.replace('whatsapp:', ''), from: DEMO.twilio.customerNumber.replace('whatsapp:', '') };
const LINE = { channel: 'line' as const, to: DEMO.line.channelId, from: DEMO.line.customerUserId };
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

describe('inbound messages through the provider sandbox', () => {
  let env: SandboxedParley;
  before(async () => {
    env = await startSandboxedParley();
  });
  after(async () => {
    await env.close();
  });
  beforeEach(() => {
    env.sandbox.reset({ keepSeeds: true });
  });

  const db = () => env.parley.database.db;
  const messagesOf = async (channelId: string) =>
    db().selectFrom('messages').selectAll().where('channel_id', '=', channelId).orderBy('occurred_at').orderBy('created_at').execute();
  const messageByProviderId = (providerId: string) =>
    until(() => db().selectFrom('messages').selectAll().where('provider_message_id', '=', providerId).executeTakeFirst());

  for (const who of [FB, WA, LINE]) {
    it(`a ${who.channel} text lands in a conversation of the customer's social profile, with their name`, async () => {
      const said = await env.sandbox.customer.say({ ...who, text: `hello from ${who.channel}`, profileName: 'Jane Doe' });
      assert.equal(said.status, 200);
      const message = await messageByProviderId(said.messageId);
      assert.equal(message.text, `hello from ${who.channel}`);
      assert.equal(message.kind, 'text');
      assert.equal(message.direction, 'inbound');
      const conversation = await db().selectFrom('conversations').selectAll().where('id', '=', message.conversation_id).executeTakeFirstOrThrow();
      assert.equal(conversation.state, 'open');
      assert.ok(conversation.last_customer_message_at);
      const profile = await until(() =>
        db().selectFrom('social_profiles').selectAll().where('id', '=', conversation.social_profile_id).where('display_name', 'is not', null).executeTakeFirst(),
      );
      assert.equal(profile.provider_user_id, who.from);
      assert.ok(profile.display_name);
    });
  }

  for (const who of [FB, WA, LINE]) {
    it(`every message kind from ${who.channel} is mapped, and media is fetched into Parley's storage`, async () => {
      const kinds: [string, Parameters<SandboxedParley['sandbox']['customer']['say']>[0]][] = [
        ['image', { ...who, attachment: { kind: 'image', data: PNG, contentType: 'image/png' } }],
        ['video', { ...who, attachment: { kind: 'video', data: Buffer.from('video-bytes'), contentType: 'video/mp4' } }],
        ['audio', { ...who, attachment: { kind: 'audio', data: Buffer.from('audio-bytes'), contentType: 'audio/mpeg' } }],
        ['file', { ...who, attachment: { kind: 'file', data: Buffer.from('%PDF-1.4'), contentType: 'application/pdf', fileName: 'invoice.pdf' } }],
        ['location', { ...who, attachment: { kind: 'location', latitude: 35.68, longitude: 139.76, title: 'Office' } }],
        ['payload', { ...who, quickReply: { text: 'Yes', payload: 'ANSWER_YES' } }],
      ];
      if (who.channel !== 'whatsapp') kinds.push(['sticker', { ...who, attachment: { kind: 'sticker' } }]);
      for (const [kind, input] of kinds) {
        const said = await env.sandbox.customer.say(input);
        assert.equal(said.status, 200, `${kind}: ${said.skipped ?? ''}`);
        const message = await messageByProviderId(said.messageId);
        if (kind === 'sticker') assert.ok(['sticker', 'image'].includes(message.kind), `${who.channel} sticker became ${message.kind}`);
        else assert.equal(message.kind, kind, `${who.channel} ${kind}`);
        assert.ok(message.raw, 'the raw payload is kept');
        if (['image', 'video', 'audio', 'file'].includes(kind)) {
          const attachment = await until(() =>
            db().selectFrom('attachments').selectAll().where('message_id', '=', message.id).where('state', 'in', ['stored', 'failed']).executeTakeFirst(),
          );
          assert.equal(attachment.state, 'stored', `${who.channel} ${kind}: ${attachment.error}`);
          const file = await env.parley.media.open(attachment.storage_key!);
          assert.ok(file && file.size > 0);
          file!.stream.destroy();
        }
        if (kind === 'location') assert.equal((message.content as { location: { latitude: number } }).location.latitude, 35.68);
        if (kind === 'payload') assert.equal((message.content as { payload: { value: string } }).payload.value, 'ANSWER_YES');
      }
    });
  }

  it('a forged or unsigned webhook is rejected, counted, and nothing is stored from it', async () => {
    const url = `${env.parley.url}/webhooks/line/${env.channels.line.webhookKey}`;
    const body = JSON.stringify({ destination: DEMO.line.botUserId, events: [{ type: 'message', webhookEventId: '01FORGED0000000000000000000', timestamp: Date.now(), mode: 'active', source: { type: 'user', userId: LINE.from }, message: { type: 'text', id: '999', text: 'forged' }, deliveryContext: { isRedelivery: false } }] });
    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(unsigned.status, 401);
    const forged = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' }, body });
    assert.equal(forged.status, 403);
    const stored = await db().selectFrom('inbox_events').select('id').where('event_key', 'like', '%FORGED%').execute();
    assert.equal(stored.length, 0);
    const unknown = await fetch(`${env.parley.url}/webhooks/line/nosuchkey`, { method: 'POST', body });
    assert.equal(unknown.status, 404);
  });

  it('duplicates and redeliveries are absorbed; a batched POST is split into its events', async () => {
    env.sandbox.facebook.injectFault({ kind: 'duplicate', times: 1 });
    const dup = await env.sandbox.customer.say({ ...FB, text: 'said once, delivered twice' });
    env.sandbox.line.injectFault({ kind: 'redeliver', times: 1 });
    const redelivered = await env.sandbox.customer.say({ ...LINE, text: 'redelivered' });
    await messageByProviderId(dup.messageId);
    await messageByProviderId(redelivered.messageId);
    await new Promise((r) => setTimeout(r, 200));
    const count = async (providerId: string) =>
      (await db().selectFrom('messages').select(sql<number>`count(*)::int`.as('n')).where('provider_message_id', '=', providerId).executeTakeFirstOrThrow()).n;
    assert.equal(await count(dup.messageId), 1);
    assert.equal(await count(redelivered.messageId), 1);

    env.sandbox.line.injectFault({ kind: 'batch', count: 3 });
    const batch = [];
    for (const text of ['one', 'two', 'three']) batch.push(env.sandbox.customer.say({ ...LINE, text: `batch ${text}` }));
    const results = await Promise.all(batch);
    for (const r of results) await messageByProviderId(r.messageId);
  });

  it('events that arrive out of order are shown in provider-timestamp order', async () => {
    env.sandbox.facebook.injectFault({ kind: 'reorder', count: 3 });
    const said = [];
    for (const text of ['first', 'second', 'third']) {
      said.push(env.sandbox.customer.say({ ...FB, text: `order ${text}` }));
      env.sandbox.clock.advance(1000);
    }
    const results = await Promise.all(said);
    for (const r of results) await messageByProviderId(r.messageId);
    const texts = (await messagesOf(env.channels.facebook.id)).map((m) => m.text).filter((t) => t?.startsWith('order '));
    assert.deepEqual(texts, ['order first', 'order second', 'order third']);
  });

  it('an acknowledged event survives a stop of the workers and is processed after restart', async () => {
    await env.parley.runner.stop();
    const said = await env.sandbox.customer.say({ ...WA, text: 'while the workers are down' });
    assert.equal(said.status, 200, 'acknowledged');
    const stored = await db().selectFrom('inbox_events').selectAll().where('event_key', '=', said.messageId).executeTakeFirstOrThrow();
    assert.equal(stored.processed_at, null);
    const none = await db().selectFrom('messages').select('id').where('provider_message_id', '=', said.messageId).executeTakeFirst();
    assert.equal(none, undefined);
    await env.parley.runner.start();
    await messageByProviderId(said.messageId);
  });

  it('an unsupported event is stored and shown as such, and the channel carries on', async () => {
    const url = `${env.parley.url}/webhooks/line/${env.channels.line.webhookKey}`;
    const body = JSON.stringify({ destination: DEMO.line.botUserId, events: [{ type: 'message', webhookEventId: '01UNSUPPORTED00000000000000', timestamp: Date.now(), mode: 'active', source: { type: 'user', userId: LINE.from }, message: { type: 'hologram', id: '424242' }, deliveryContext: { isRedelivery: false } }] });
    const { createHmac } = await import('node:crypto');
    const signature = createHmac('sha256', DEMO.line.channelSecret).update(body).digest('base64');
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': signature }, body });
    assert.equal(response.status, 200);
    const unsupported = await until(() => db().selectFrom('messages').selectAll().where('kind', '=', 'unsupported').where('channel_id', '=', env.channels.line.id).executeTakeFirst());
    assert.match(unsupported.text ?? '', /Unsupported/);
    const after = await env.sandbox.customer.say({ ...LINE, text: 'still flowing' });
    await messageByProviderId(after.messageId);
  });

  it('a media fetch that fails is retried until it succeeds; the message is there all along', async () => {
    env.sandbox.twilio.injectFault({ kind: 'server-error', times: 1, match: { path: '/Media/' } });
    const said = await env.sandbox.customer.say({ ...WA, attachment: { kind: 'image', data: PNG, contentType: 'image/png' } });
    const message = await messageByProviderId(said.messageId);
    const attachment = await until(
      () => db().selectFrom('attachments').selectAll().where('message_id', '=', message.id).where('state', '=', 'stored').executeTakeFirst(),
      15_000,
    );
    assert.equal(attachment.content_type, 'image/png');
  });

  it("with customer attachments off in the channel's workstream, the file is not kept and the agent sees a notice", async () => {
    const workstream = await db().insertInto('workstreams').values({ name: 'No files', customer_attachments: false }).returning('id').executeTakeFirstOrThrow();
    await db().updateTable('channel_instances').set({ workstream_id: workstream.id }).where('id', '=', env.channels.whatsapp.id).execute();
    try {
      const said = await env.sandbox.customer.say({ ...WA, attachment: { kind: 'image', data: PNG, contentType: 'image/png' } });
      const message = await messageByProviderId(said.messageId);
      const attachment = await db().selectFrom('attachments').selectAll().where('message_id', '=', message.id).executeTakeFirstOrThrow();
      assert.equal(attachment.state, 'blocked');
      assert.equal(attachment.storage_key, null);
      assert.deepEqual(attachment.source, { kind: 'image' });
      const notice = await until(() =>
        db().selectFrom('messages').selectAll().where('conversation_id', '=', message.conversation_id).where('author', '=', 'system').where('kind', '=', 'notice').executeTakeFirst(),
      );
      assert.match(notice.text!, /tried to send an attachment \(image\)/);
    } finally {
      await db().updateTable('channel_instances').set({ workstream_id: null }).where('id', '=', env.channels.whatsapp.id).execute();
      await db().deleteFrom('workstreams').where('id', '=', workstream.id).execute();
    }
  });

  it('the same customer continues one conversation from any device; after it is closed, a new one opens for the same profile', async () => {
    const first = await messageByProviderId((await env.sandbox.customer.say({ ...FB, text: 'from the phone' })).messageId);
    const second = await messageByProviderId((await env.sandbox.customer.say({ ...FB, text: 'from the web' })).messageId);
    assert.equal(first.conversation_id, second.conversation_id);
    await db().updateTable('conversations').set({ state: 'closed', closed_at: new Date() }).where('id', '=', first.conversation_id).execute();
    const third = await messageByProviderId((await env.sandbox.customer.say({ ...FB, text: 'next week' })).messageId);
    assert.notEqual(third.conversation_id, first.conversation_id);
    const [a, b] = await Promise.all(
      [first.conversation_id, third.conversation_id].map((id) => db().selectFrom('conversations').select('social_profile_id').where('id', '=', id).executeTakeFirstOrThrow()),
    );
    assert.equal(a!.social_profile_id, b!.social_profile_id);
  });

  it('a Twilio status callback with 63016 marks our message failed with the code and an explanation', async () => {
    const conversation = await messageByProviderId((await env.sandbox.customer.say({ ...WA, text: 'hi' })).messageId);
    const [row] = await db()
      .insertInto('messages')
      .values({ conversation_id: conversation.conversation_id, channel_id: env.channels.whatsapp.id, direction: 'outbound', author: 'agent', kind: 'text', text: 'late reply', provider_message_id: 'SM' + 'f'.repeat(32), status: 'sent', occurred_at: new Date(), content: '{}' })
      .returning('id')
      .execute();
    const url = `${env.parley.config.publicUrl}/webhooks/twilio-whatsapp/${env.channels.whatsapp.webhookKey}/status`;
    const params = { AccountSid: DEMO.twilio.accountSid, ErrorCode: '63016', From: DEMO.twilio.whatsappNumber, MessageSid: 'SM' + 'f'.repeat(32), MessageStatus: 'undelivered', To: DEMO.twilio.customerNumber };
    const { createHmac } = await import('node:crypto');
    const signed = url + Object.keys(params).sort().map((k) => k + params[k as keyof typeof params]).join('');
    const signature = createHmac('sha1', DEMO.twilio.authToken).update(signed).digest('base64');
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body: new URLSearchParams(params).toString() });
    assert.equal(response.status, 200);
    const failed = await until(() => db().selectFrom('messages').selectAll().where('id', '=', row!.id).where('status', '=', 'failed').executeTakeFirst());
    assert.equal(failed.error_code, '63016');
    assert.ok(failed.error_message && failed.error_message.length > 10);
  });

  it('webhook diagnostics count accepted and rejected webhooks and keep the last failure reason', async () => {
    await env.sandbox.customer.say({ ...LINE, text: 'counted' });
    await fetch(`${env.parley.url}/webhooks/line/${env.channels.line.webhookKey}`, { method: 'POST', headers: { 'x-line-signature': 'bad' }, body: '{}' });
    const { createWebhookStats } = await import('../../src/core/channels/webhook-stats.ts');
    const reader = createWebhookStats(db());
    await until(async () => {
      const d = await reader.read(env.channels.line.id);
      return d.lastHour.accepted > 0 && d.lastHour.rejected > 0 && d.lastSignatureFailure ? d : null;
    }, 6000);
  });

  it("a Facebook app's events for another of its pages, arriving at the app's one callback URL, are filed under that page", async () => {
    const { insertChannelInstance } = await import('../../src/core/channels/store.ts');
    const first = await db().selectFrom('channel_instances').select('account_id').where('id', '=', env.channels.facebook.id).executeTakeFirstOrThrow();
    const second = await insertChannelInstance(db(), env.parley.secrets, { accountId: first.account_id, provider: 'facebook', name: 'Second page', externalId: '200000000000002', token: 'EAADEMO-second-page-token' });
    env.sandbox.facebook.seedPage({ pageId: '200000000000002', name: 'Second page', accessToken: 'EAADEMO-second-page-token', appId: DEMO.facebook.appId });
    const said = await env.sandbox.customer.say({ channel: 'facebook', to: '200000000000002', from: '3000000000000077', text: 'to the second page' });
    assert.equal(said.status, 200);
    const message = await messageByProviderId(said.messageId);
    assert.equal(message.channel_id, second.id);

    env.sandbox.facebook.seedPage({ pageId: '200000000000003', name: 'Not in Parley', accessToken: 'EAADEMO-third', appId: DEMO.facebook.appId });
    const stray = await env.sandbox.customer.say({ channel: 'facebook', to: '200000000000003', from: '3000000000000078', text: 'to a page Parley does not know' });
    assert.equal(stray.status, 200, 'acknowledged: the app may serve pages that are not connected here');
    const kept = await until(() => db().selectFrom('inbox_events').selectAll().where('event_key', '=', stray.messageId).where('processed_at', 'is not', null).executeTakeFirst());
    assert.equal(kept.event_type, 'unsupported');
    assert.equal(await db().selectFrom('messages').select('id').where('provider_message_id', '=', stray.messageId).executeTakeFirst(), undefined);
  });

  it('a deleted channel stops intake with 410 and keeps its history', async () => {
    const said = await env.sandbox.customer.say({ ...LINE, text: 'before deletion' });
    await messageByProviderId(said.messageId);
    await db().updateTable('channel_instances').set({ deleted_at: new Date() }).where('id', '=', env.channels.line.id).execute();
    await env.parley.database.notifier.notify(db(), 'parley_channels', env.channels.line.id);
    await new Promise((r) => setTimeout(r, 100));
    const after = await env.sandbox.customer.say({ ...LINE, text: 'after deletion' });
    assert.equal(after.status, 410);
    assert.ok(await db().selectFrom('messages').select('id').where('provider_message_id', '=', said.messageId).executeTakeFirst());
    await db().updateTable('channel_instances').set({ deleted_at: null }).where('id', '=', env.channels.line.id).execute();
    await env.parley.database.notifier.notify(db(), 'parley_channels', env.channels.line.id);
  });

  it('two workers racing on one customer keep the provider order', { skip: !onPostgres && 'several workers need several connections: PostgreSQL only' }, async () => {
    const { JobRunner } = await import('../../src/jobs/runner.ts');
    await env.parley.runner.stop();
    const said = [];
    for (let i = 0; i < 20; i++) {
      said.push(await env.sandbox.customer.say({ ...WA, text: `race ${String(i).padStart(2, '0')}` }));
      env.sandbox.clock.advance(10);
    }
    const second = new JobRunner(db(), env.parley.database.notifier, { concurrency: 8, pollMs: 20 });
    const { createIngest, channelAttachmentPolicy } = await import('../../src/core/conversations/ingest.ts');
    second.registerBatch('inbound', 4, createIngest({ db: db(), notifier: env.parley.database.notifier, policy: channelAttachmentPolicy }).handler);
    await Promise.all([env.parley.runner.start(), second.start()]);
    try {
      for (const r of said) await messageByProviderId(r.messageId);
      const rows = await db().selectFrom('messages').select(['text', 'created_at']).where('text', 'like', 'race %').orderBy('created_at').execute();
      assert.deepEqual(rows.map((r) => r.text), said.map((_, i) => `race ${String(i).padStart(2, '0')}`));
    } finally {
      await second.stop();
    }
  });
});
