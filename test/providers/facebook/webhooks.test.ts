import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createFacebookAdapter } from '../../../src/providers/facebook/index.ts';
import type { EchoEvent, InboundEvent, MessageEvent, StatusEvent } from '../../../src/providers/types.ts';
import { metaSignatureHeaders } from '../../../src/sandbox/signing.ts';
import { facebookCredentials, loadFixtures, webhookOf, type Fixture } from '../helpers.ts';

const adapter = createFacebookAdapter({ facebookGraph: 'http://graph.invalid', facebookGraphVersion: 'v25.0', twilioApi: '', lineApi: '', lineData: '' });
const PAGE = '200000000000001';
const PSID = '3000000000000001';

// Reference §4.1: Meta's escapes (\u00e9, \/) are part of the signed bytes.
const VECTOR_BODY =
  '{"object":"page","entry":[{"id":"111111111111111","time":1700000000000,"messaging":[{"sender":{"id":"2222222222222222"},"recipient":{"id":"111111111111111"},"timestamp":1700000000000,"message":{"mid":"m_test_mid_1","text":"Caf\\u00e9 ok? https:\\/\\/example.com"}}]}]}';
const VECTOR_SECRET = { ...facebookCredentials, appSecret: 'fb-test-app-secret' };

function only<T extends InboundEvent['type']>(events: InboundEvent[], type: T): Extract<InboundEvent, { type: T }> {
  assert.equal(events.length, 1, JSON.stringify(events));
  const event = events[0]!;
  assert.equal(event.type, type, JSON.stringify(event));
  return event as Extract<InboundEvent, { type: T }>;
}

function signed(payload: unknown, secret = facebookCredentials.appSecret) {
  const rawBody = JSON.stringify(payload);
  return webhookOf({ rawBody, headers: { 'content-type': 'application/json', ...metaSignatureHeaders(rawBody, secret) } });
}

describe('Facebook webhook signature', () => {
  let fixtures: Map<string, Fixture>;
  before(async () => {
    fixtures = await loadFixtures('facebook');
  });

  it('accepts the reference vector on the raw bytes, not on a re-serialisation', () => {
    assert.equal(VECTOR_BODY.length, 265);
    const header = { 'X-Hub-Signature-256': 'sha256=e189a7e7a724ecc875562c2a76367a97d044ae6c16ebb94f20d6d9332ab09304' };
    assert.equal(adapter.verify(webhookOf({ rawBody: VECTOR_BODY, headers: header }), VECTOR_SECRET), true);
    const reserialised = JSON.stringify(JSON.parse(VECTOR_BODY));
    assert.equal(adapter.verify(webhookOf({ rawBody: reserialised, headers: header }), VECTOR_SECRET), false);
    assert.equal(
      adapter.verify(webhookOf({ rawBody: '{"object":"page","entry":[]}', headers: { 'x-hub-signature-256': 'sha256=f26d35998df90dbd32beffec6ad1ae9aaed27653bd5e4d008b07cb4f38b6d77d' } }), VECTOR_SECRET),
      true,
    );
  });

  it('accepts every signed fixture', () => {
    for (const fixture of fixtures.values()) assert.equal(adapter.verify(webhookOf(fixture), { ...facebookCredentials, appSecret: fixture.secret }), true, fixture.file);
  });

  it('refuses modified bodies, wrong secrets, missing or malformed headers, and the legacy SHA-1 header alone', () => {
    const fixture = fixtures.get('message-text')!;
    assert.equal(adapter.verify(webhookOf({ ...fixture, rawBody: fixture.rawBody.replace('Caf', 'Cof') }), facebookCredentials), false);
    assert.equal(adapter.verify(webhookOf(fixture), { ...facebookCredentials, appSecret: 'another-secret' }), false);
    assert.equal(adapter.verify(webhookOf(fixture), { ...facebookCredentials, appSecret: '' }), false);
    const { 'x-hub-signature-256': sha256, ...legacyOnly } = fixture.headers;
    assert.ok(sha256);
    assert.equal(adapter.verify(webhookOf({ ...fixture, headers: legacyOnly }), facebookCredentials), false);
    for (const garbage of ['', 'sha256=', 'sha256=zz', 'sha1=' + 'a'.repeat(40), 'sha256=' + 'a'.repeat(63), sha256.toUpperCase(), 'sha256=' + 'a'.repeat(64)]) {
      assert.equal(adapter.verify(webhookOf({ ...fixture, headers: { 'x-hub-signature-256': garbage } }), facebookCredentials), false, garbage);
    }
    assert.equal(adapter.verify(webhookOf({ ...fixture, headers: { 'x-hub-signature-256': [sha256, 'x'] as unknown as string } }), facebookCredentials), true);
  });
});

describe('Facebook verification handshake', () => {
  const query = (mode: string, token: string, challenge = '1158201444') =>
    new URLSearchParams({ 'hub.mode': mode, 'hub.verify_token': token, 'hub.challenge': challenge });
  it('answers the challenge to the right verify token only', () => {
    assert.deepEqual(adapter.handshake!(query('subscribe', 'demo-verify-token'), 'demo-verify-token'), { status: 200, body: '1158201444' });
    assert.equal(adapter.handshake!(query('subscribe', 'wrong'), 'demo-verify-token').status, 403);
    assert.equal(adapter.handshake!(query('unsubscribe', 'demo-verify-token'), 'demo-verify-token').status, 403);
    assert.equal(adapter.handshake!(query('subscribe', ''), '').status, 403);
    assert.equal(adapter.handshake!(new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.verify_token': 'demo-verify-token' }), 'demo-verify-token').status, 403);
  });
  it('acknowledges with EVENT_RECEIVED', () => {
    assert.deepEqual(adapter.ack(), { status: 200, contentType: 'text/plain', body: 'EVENT_RECEIVED' });
  });
});

describe('Facebook webhook decoding', () => {
  let fixtures: Map<string, Fixture>;
  before(async () => {
    fixtures = await loadFixtures('facebook');
  });
  const decode = (name: string) => adapter.decode(webhookOf(fixtures.get(name)!));

  it('a text message: mid as key, page as channel, PSID as customer, provider time', () => {
    const event = only(decode('message-text'), 'message');
    assert.equal(event.key, event.providerMessageId);
    assert.match(event.key, /^m_/);
    assert.equal(event.channelRef, PAGE);
    assert.equal(event.customerId, PSID);
    assert.equal(event.timestamp, 1700000000000);
    assert.equal(event.content.text, 'Café? https://example.com/order/42 🙂');
    assert.deepEqual(event.content.attachments, []);
    assert.equal(event.standby, undefined);
  });

  it('each attachment kind becomes a media reference with its CDN URL', () => {
    for (const kind of ['image', 'video', 'audio', 'file'] as const) {
      const event = only(decode(`message-${kind}`), 'message');
      assert.equal(event.content.attachments.length, 1, kind);
      assert.equal(event.content.attachments[0]!.kind, kind);
      assert.match(event.content.attachments[0]!.url!, /^https:\/\/scontent/);
    }
  });

  it('location, sticker, quick reply, reply-to and postback', () => {
    const location = only(decode('message-location'), 'message').content;
    assert.deepEqual(location.location, { latitude: 48.8566, longitude: 2.3522, title: 'Pinned Location' });
    const sticker = only(decode('message-sticker'), 'message').content;
    assert.equal(sticker.sticker?.stickerId, '369239263222822');
    assert.equal(sticker.attachments[0]?.kind, 'sticker');
    const quick = only(decode('message-quick-reply'), 'message').content;
    assert.deepEqual(quick.payload, { type: 'quick_reply', value: 'CONFIRM_YES', title: 'Yes please' });
    assert.equal(only(decode('message-reply-to'), 'message').content.replyTo, 'm_earlier_message');
    const postback = only(decode('postback'), 'message');
    assert.equal(postback.key, 'm_l2nUv0VsVrlk1WMsIcGovi9Rd18z6KAO');
    assert.deepEqual(postback.content.payload, { type: 'postback', value: 'AGENT', title: 'Talk to an agent' });
  });

  it('a postback without mid is keyed by sender, time and payload', () => {
    const payload = { object: 'page', entry: [{ id: PAGE, time: 5, messaging: [{ sender: { id: PSID }, recipient: { id: PAGE }, timestamp: 42, postback: { title: 'Start', payload: 'GET_STARTED' } }] }] };
    const event = only(adapter.decode(signed(payload)), 'message');
    assert.equal(event.key, `postback:${PSID}:42:GET_STARTED`);
  });

  it('echoes carry the app id and our metadata; the customer is the recipient', () => {
    const echo: EchoEvent = only(decode('echo'), 'echo');
    assert.equal(echo.appId, '100000000000001');
    assert.equal(echo.metadata, 'parley:message:1');
    assert.equal(echo.customerId, PSID);
    assert.equal(echo.content.text, 'Hello from Parley');
    assert.equal(echo.key, echo.providerMessageId);
  });

  it('delivery and read receipts are watermark status events', () => {
    const delivery: StatusEvent = only(decode('delivery'), 'status');
    assert.equal(delivery.status, 'delivered');
    assert.equal(delivery.watermark, 1700000000000);
    assert.equal(delivery.key, `delivery:${PSID}:1700000000000`);
    const read: StatusEvent = only(decode('read'), 'status');
    assert.equal(read.status, 'read');
    assert.equal(read.key, `read:${PSID}:1700000000000`);
    const midsOnly = { object: 'page', entry: [{ id: PAGE, time: 1, messaging: [{ sender: { id: PSID }, recipient: { id: PAGE }, timestamp: 1, delivery: { mids: ['m_1'] } }] }] };
    const byMid = only(adapter.decode(signed(midsOnly)), 'status');
    assert.equal(byMid.providerMessageId, 'm_1');
    assert.equal(byMid.key, 'delivery:m_1');
  });

  it('a batch splits into one event per entry, in order, with distinct keys', () => {
    const events = decode('batch') as MessageEvent[];
    assert.deepEqual(events.map((e) => e.content.text), ['first', 'second']);
    assert.notEqual(events[0]!.key, events[1]!.key);
  });

  it('standby events are read-only messages', () => {
    const payload = { object: 'page', entry: [{ id: PAGE, time: 1, standby: [{ sender: { id: PSID }, recipient: { id: PAGE }, timestamp: 7, message: { mid: 'm_standby', text: 'to the bot' } }] }] };
    const event = only(adapter.decode(signed(payload)), 'message');
    assert.equal(event.standby, true);
    assert.equal(event.key, 'm_standby');
  });

  it('unknown kinds and malformed bodies become unsupported events with a reason, never exceptions', () => {
    const reaction = { object: 'page', entry: [{ id: PAGE, time: 1, messaging: [{ sender: { id: PSID }, recipient: { id: PAGE }, timestamp: 1, reaction: { mid: 'm_1', action: 'react', emoji: '❤' } }] }] };
    const unsupported = only(adapter.decode(signed(reaction)), 'unsupported');
    assert.match(unsupported.reason, /reaction/);
    assert.equal(unsupported.customerId, PSID);
    assert.equal(unsupported.channelRef, PAGE);
    // Same bytes twice: same key, so a redelivery dedupes.
    assert.equal(only(adapter.decode(signed(reaction)), 'unsupported').key, unsupported.key);
    for (const body of ['not json', '[]', '{"object":"instagram","entry":[]}', '{"object":"page"}', '{"object":"page","entry":[1,{"id":"1","messaging":[null,{"sender":{}}]}]}', '']) {
      const events = adapter.decode(webhookOf({ rawBody: body, headers: {} }));
      assert.ok(events.length >= 1, body);
      for (const event of events) assert.equal(event.type, 'unsupported', body);
    }
    const empty = { object: 'page', entry: [{ id: PAGE, time: 1, messaging: [{ sender: { id: PSID }, recipient: { id: PAGE }, timestamp: 1, message: { mid: 'm_x', attachments: [{ type: 'template', payload: {} }] } }] }] };
    assert.equal(only(adapter.decode(signed(empty)), 'unsupported').key, 'm_x');
    assert.deepEqual(adapter.decode(signed({ object: 'page', entry: [] })), []);
  });
});
