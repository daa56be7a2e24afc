import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { validateSignature } from '@line/bot-sdk';
import twilio from 'twilio';
import { DEMO, seedDemo, startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { metaSignatureHeaders } from '../../src/sandbox/signing.ts';
import { startReceiver } from './receiver.ts';

const KINDS = ['image', 'video', 'audio', 'file'] as const;

describe('startSandbox with the simulated customer', () => {
  let sandbox: Sandbox;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const hooks = () => ({
    facebookCallbackUrl: `${receiver.url}/webhooks/facebook`,
    twilioInboundUrl: `${receiver.url}/webhooks/twilio`,
    twilioStatusUrl: `${receiver.url}/webhooks/twilio/status`,
    lineWebhookUrl: `${receiver.url}/webhooks/line`,
  });

  before(async () => {
    receiver = await startReceiver();
    sandbox = await startSandbox();
  });
  after(async () => {
    await sandbox.close();
    await receiver.close();
  });
  beforeEach(() => {
    sandbox.reset({ keepSeeds: false });
    receiver.received.length = 0;
    receiver.respondWith(() => undefined);
    seedDemo(sandbox, hooks());
    sandbox.facebook.settings.webhookTimeoutMs = 300;
    sandbox.line.settings.webhookTimeoutMs = 300;
    sandbox.twilio.settings.webhookTimeoutMs = 300;
    sandbox.facebook.settings.autoDelivery = false;
    sandbox.facebook.settings.echoes = false;
  });

  const fb = { channel: 'facebook' as const, to: DEMO.facebook.pageId, from: DEMO.facebook.customerPsid };
  const wa = { channel: 'whatsapp' as const, to: DEMO.twilio.whatsappNumber, from: DEMO.twilio.customerNumber };
  const ln = { channel: 'line' as const, to: DEMO.line.channelId, from: DEMO.line.customerUserId };
  const twilioAuth = 'Basic ' + Buffer.from(`${DEMO.twilio.accountSid}:${DEMO.twilio.authToken}`).toString('base64');

  it('exposes four listening URLs', () => {
    for (const url of Object.values(sandbox.urls)) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(new Set(Object.values(sandbox.urls)).size, 4);
  });

  it('the customer sends every media kind on Facebook, downloadable from the emulator CDN', async () => {
    for (const kind of KINDS) {
      const data = Buffer.from(`${kind}-bytes`);
      const result = await sandbox.customer.say({ ...fb, attachment: { kind, data, contentType: 'application/octet-stream' } });
      assert.equal(result.delivered, true);
      assert.equal(result.headers?.['x-hub-signature-256'], metaSignatureHeaders(result.body!, DEMO.facebook.appSecret)['x-hub-signature-256']);
      const attachment = JSON.parse(result.body!).entry[0].messaging[0].message.attachments[0];
      assert.equal(attachment.type, kind);
      assert.equal(attachment.payload.url, result.mediaUrl);
      assert.deepEqual(Buffer.from(await (await fetch(result.mediaUrl!)).arrayBuffer()), data);
    }
    const location = await sandbox.customer.say({ ...fb, attachment: { kind: 'location', latitude: 48.85, longitude: 2.35 } });
    assert.deepEqual(JSON.parse(location.body!).entry[0].messaging[0].message.attachments[0].payload.coordinates, { lat: 48.85, long: 2.35 });
    const sticker = await sandbox.customer.say({ ...fb, attachment: { kind: 'sticker' } });
    assert.equal(typeof JSON.parse(sticker.body!).entry[0].messaging[0].message.sticker_id, 'number');
    const quick = await sandbox.customer.say({ ...fb, quickReply: { text: 'Yes', payload: 'YES' } });
    assert.deepEqual(JSON.parse(quick.body!).entry[0].messaging[0].message.quick_reply, { payload: 'YES' });
    const postback = await sandbox.customer.say({ ...fb, postback: { title: 'Get Started', payload: 'START' } });
    assert.equal(JSON.parse(postback.body!).entry[0].messaging[0].postback.payload, 'START');
  });

  it('the customer sends every kind on WhatsApp, media behind the Twilio media URL', async () => {
    for (const kind of KINDS) {
      const data = Buffer.from(`${kind}-bytes`);
      const result = await sandbox.customer.say({ ...wa, attachment: { kind, data, contentType: 'application/pdf' } });
      assert.equal(result.delivered, true);
      const params = Object.fromEntries(new URLSearchParams(result.body));
      assert.equal(twilio.validateRequest(DEMO.twilio.authToken, result.headers!['x-twilio-signature']!, result.url!, params), true);
      assert.equal(params.MessageType, kind === 'file' ? 'document' : kind);
      const file = await fetch(params.MediaUrl0!, { headers: { authorization: twilioAuth } });
      assert.deepEqual(Buffer.from(await file.arrayBuffer()), data);
    }
    const location = await sandbox.customer.say({ ...wa, attachment: { kind: 'location', latitude: 1.5, longitude: 2.5, title: 'Office', address: '1 Main St' } });
    const lp = Object.fromEntries(new URLSearchParams(location.body));
    assert.deepEqual([lp.MessageType, lp.Latitude, lp.Longitude, lp.Label, lp.Address], ['location', '1.5', '2.5', 'Office', '1 Main St']);
    const sticker = Object.fromEntries(new URLSearchParams((await sandbox.customer.say({ ...wa, attachment: { kind: 'sticker' } })).body));
    assert.equal(sticker.MediaContentType0, 'image/webp');
    const button = Object.fromEntries(new URLSearchParams((await sandbox.customer.say({ ...wa, quickReply: { text: 'Yes', payload: 'YES' } })).body));
    assert.deepEqual([button.ButtonText, button.ButtonPayload], ['Yes', 'YES']);
  });

  it('the customer sends every kind on LINE, media on the data host', async () => {
    for (const kind of KINDS) {
      const data = Buffer.from(`${kind}-bytes`);
      const result = await sandbox.customer.say({ ...ln, attachment: { kind, data, contentType: 'audio/m4a' } });
      assert.equal(validateSignature(result.body!, DEMO.line.channelSecret, result.headers!['x-line-signature']!), true);
      assert.equal(JSON.parse(result.body!).events[0].message.type, kind);
      const file = await fetch(result.mediaUrl!, { headers: { authorization: `Bearer ${DEMO.line.accessToken}` } });
      assert.equal(file.headers.get('content-type'), 'audio/m4a');
      assert.deepEqual(Buffer.from(await file.arrayBuffer()), data);
    }
    const location = await sandbox.customer.say({ ...ln, attachment: { kind: 'location', latitude: 35.6, longitude: 139.7, title: 'Tokyo' } });
    assert.equal(JSON.parse(location.body!).events[0].message.latitude, 35.6);
    const sticker = await sandbox.customer.say({ ...ln, attachment: { kind: 'sticker', id: '52002734', packageId: '11537' } });
    assert.equal(JSON.parse(sticker.body!).events[0].message.stickerId, '52002734');
    const postback = await sandbox.customer.say({ ...ln, postback: { payload: 'action=buy' } });
    assert.deepEqual(JSON.parse(postback.body!).events[0].postback, { data: 'action=buy' });
    const unfollow = await sandbox.customer.lineFollow(DEMO.line.channelId, DEMO.line.customerUserId, false);
    const event = JSON.parse(unfollow.body!).events[0];
    assert.equal(event.type, 'unfollow');
    assert.equal(event.replyToken, undefined);
  });

  it('webhook faults: duplicate, redeliver, batch and reorder', async () => {
    sandbox.line.injectFault({ kind: 'duplicate', times: 1 });
    const dup = await sandbox.customer.say({ ...ln, text: 'twice' });
    assert.equal(dup.deliveries.length, 2);
    assert.equal(dup.deliveries[0]!.attempts[0]!.body, dup.deliveries[1]!.attempts[0]!.body);

    sandbox.line.injectFault({ kind: 'redeliver', times: 1 });
    const re = await sandbox.customer.say({ ...ln, text: 'again' });
    const [original, redelivered] = re.deliveries.map((d) => JSON.parse(d.attempts[0]!.body).events[0]);
    assert.equal(redelivered.deliveryContext.isRedelivery, true);
    assert.equal(redelivered.webhookEventId, original.webhookEventId);

    sandbox.facebook.injectFault({ kind: 'batch', times: 1, count: 3 });
    receiver.received.length = 0;
    const batched = await Promise.all(['one', 'two', 'three'].map((text) => sandbox.customer.say({ ...fb, text })));
    assert.equal(receiver.received.length, 1);
    const entries = JSON.parse(receiver.received[0]!.body).entry;
    assert.deepEqual(entries.map((e: { messaging: Array<{ message: { text: string } }> }) => e.messaging[0]!.message.text), ['one', 'two', 'three']);
    assert.equal(batched[0]!.body, batched[2]!.body);

    sandbox.twilio.injectFault({ kind: 'reorder', times: 1, count: 2 });
    receiver.received.length = 0;
    await Promise.all(['first', 'second'].map((text) => sandbox.customer.say({ ...wa, text })));
    assert.deepEqual(receiver.received.map((r) => new URLSearchParams(r.body).get('Body')), ['second', 'first']);
  });

  it('the HTTP test API seeds, injects faults, lists what was sent, speaks and resets', async () => {
    const graph = sandbox.urls.facebookGraph;
    const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post(`${graph}/_sandbox/apps`, { appId: '555', appSecret: 's' })).status, 201);
    assert.equal((await post(`${graph}/_sandbox/pages`, { pageId: '777', appId: '555', accessToken: 'tok' })).status, 201);
    const said = (await (await post(`${sandbox.urls.twilioApi}/_sandbox/say`, { ...fb, text: 'via http' })).json()) as { delivered: boolean; messageId: string };
    assert.equal(said.delivered, true);
    assert.match(said.messageId, /^m_/);
    const fault = await post(`${graph}/_sandbox/faults`, { kind: 'rate-limit', times: 1 });
    assert.equal(fault.status, 201);
    const send = await fetch(`${graph}/v25.0/me/messages?access_token=${DEMO.facebook.pageAccessToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ recipient: { id: DEMO.facebook.customerPsid }, message: { text: 'hi' } }),
    });
    assert.equal(((await send.json()) as { error: { code: number } }).error.code, 613);
    const sent = (await (await fetch(`${graph}/_sandbox/sent`)).json()) as { sent: Array<{ path: string; status: number }> };
    assert.deepEqual(sent.sent.map((s) => [s.path, s.status]), [['/v25.0/me/messages', 400]]);
    assert.equal((await post(`${graph}/_sandbox/say`, { channel: 'sms', to: 'x', from: 'y', text: 'z' })).status, 400);
    const clock = (await (await post(`${graph}/_sandbox/clock`, { advanceMs: 3_600_000 })).json()) as { now: number };
    assert.ok(clock.now > Date.now() + 3_500_000);
    assert.equal((await post(`${graph}/_sandbox/reset`, {})).status, 200);
    assert.deepEqual(await (await fetch(`${graph}/_sandbox/sent`)).json(), { sent: [] });
    assert.ok(sandbox.facebook.pages.has('777'));
    sandbox.clock.reset();
  });
});
