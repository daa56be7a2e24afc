import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { validateSignature } from '@line/bot-sdk';
import { createLineAdapter, retryKeyFor } from '../../../src/providers/line/index.ts';
import type { InboundEvent } from '../../../src/providers/types.ts';
import { lineSignature } from '../../../src/sandbox/signing.ts';
import { lineCredentials, loadFixtures, webhookOf, type Fixture } from '../helpers.ts';

const adapter = createLineAdapter({ facebookGraph: '', facebookGraphVersion: 'v25.0', twilioApi: '', lineApi: 'http://line.invalid', lineData: 'http://line-data.invalid' });
const BOT = 'U00000000000000000000000000000001';
const USER = 'U00000000000000000000000000000002';

function only(events: InboundEvent[]): InboundEvent {
  assert.equal(events.length, 1, JSON.stringify(events));
  return events[0]!;
}

function body(events: unknown[]): string {
  return JSON.stringify({ destination: BOT, events });
}

describe('LINE webhook signature', () => {
  let fixtures: Map<string, Fixture>;
  before(async () => {
    fixtures = await loadFixtures('line');
  });

  it('accepts the reference vectors, including LINE\'s own', () => {
    const secret = { ...lineCredentials, channelSecret: 'line-test-channel-secret' };
    const text =
      '{"destination":"U00000000000000000000000000000001","events":[{"type":"message","message":{"type":"text","id":"500000000000000001","quoteToken":"q-test-1","text":"こんにちは hello"},"webhookEventId":"01HZZZZZZZZZZZZZZZZZZZZZZZ","deliveryContext":{"isRedelivery":false},"timestamp":1700000000000,"source":{"type":"user","userId":"U00000000000000000000000000000002"},"replyToken":"0f0e0d0c0b0a09080706050403020100","mode":"active"}]}';
    assert.equal(Buffer.byteLength(text), 435);
    assert.equal(adapter.verify(webhookOf({ rawBody: text, headers: { 'x-line-signature': 'hRWAYACR6s7PSgaP+5uy278KzzMoj8/f0hKiQKwKJN4=' } }), secret), true);
    const probe = '{"destination":"U00000000000000000000000000000001","events":[]}';
    assert.equal(adapter.verify(webhookOf({ rawBody: probe, headers: { 'X-Line-Signature': '0kSgj55WS63CJRT50f16oSL5cClxloP4GTmVfgNFeSM=' } }), secret), true);
    const official = { ...lineCredentials, channelSecret: '8c570fa6dd201bb328f1c1eac23a96d8' };
    const officialBody = '{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}';
    assert.equal(adapter.verify(webhookOf({ rawBody: officialBody, headers: { 'x-line-signature': 'GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs=' } }), official), true);
  });

  it('agrees with the LINE SDK on every fixture and refuses tampering, wrong secrets and missing headers', () => {
    for (const fixture of fixtures.values()) {
      const credentials = { ...lineCredentials, channelSecret: fixture.secret };
      assert.equal(adapter.verify(webhookOf(fixture), credentials), validateSignature(fixture.rawBody, fixture.secret, fixture.headers['x-line-signature']!), fixture.file);
      assert.equal(adapter.verify(webhookOf(fixture), credentials), true, fixture.file);
      assert.equal(adapter.verify(webhookOf({ ...fixture, rawBody: fixture.rawBody.replace('}', ' }') }), credentials), false, fixture.file);
      assert.equal(adapter.verify(webhookOf(fixture), { ...credentials, channelSecret: 'other' }), false, fixture.file);
      assert.equal(adapter.verify(webhookOf({ ...fixture, headers: {} }), credentials), false, fixture.file);
    }
    const fixture = fixtures.get('message-text')!;
    for (const garbage of ['', '====', 'abc', 'not base64!', lineSignature(fixture.rawBody, lineCredentials.channelSecret).slice(0, 40)]) {
      assert.equal(adapter.verify(webhookOf({ ...fixture, headers: { 'x-line-signature': garbage } }), lineCredentials), false, garbage);
    }
  });
});

describe('LINE webhook decoding', () => {
  let fixtures: Map<string, Fixture>;
  before(async () => {
    fixtures = await loadFixtures('line');
  });
  const decode = (name: string) => adapter.decode(webhookOf(fixtures.get(name)!));

  it('a text message: webhookEventId as key, the bot as channel, the reply token kept', () => {
    const event = only(decode('message-text'));
    assert.equal(event.type, 'message');
    if (event.type !== 'message') return;
    assert.equal(event.key, '01HF7YAT00B4BV6BSKBREANBJG');
    assert.equal(event.providerMessageId, '170000000000000001');
    assert.equal(event.channelRef, BOT);
    assert.equal(event.customerId, USER);
    assert.equal(event.replyToken, '5586cb07183db57d174b1c68d1e48837');
    assert.equal(event.timestamp, 1700000000000);
    assert.equal(event.content.text, 'こんにちは、注文について');
  });

  it('media by content id, location, sticker and postback', () => {
    for (const kind of ['image', 'video', 'audio', 'file'] as const) {
      const event = only(decode(`message-${kind}`));
      const attachment = event.type === 'message' ? event.content.attachments[0] : undefined;
      assert.equal(attachment?.kind, kind);
      assert.match(attachment?.contentId ?? '', /^\d+$/);
    }
    const file = only(decode('message-file'));
    assert.deepEqual(file.type === 'message' && file.content.attachments[0], { kind: 'file', contentId: '170000000000000005', fileName: 'document.pdf', size: 49 });
    const location = only(decode('message-location'));
    assert.deepEqual(location.type === 'message' && location.content.location, { latitude: 35.6812, longitude: 139.7671, title: 'Tokyo Station', address: '1 Chome Marunouchi' });
    const sticker = only(decode('message-sticker'));
    assert.deepEqual(sticker.type === 'message' && sticker.content.sticker, { stickerId: '52002734', packageId: '11537' });
    const postback = only(decode('postback'));
    assert.deepEqual(postback.type === 'message' && postback.content.payload, { type: 'postback', value: 'action=agent' });
    assert.equal(postback.type === 'message' && postback.replyToken, 'fe7d39a17d27ec31acf2412fd15e0032');
  });

  it('follow and unfollow are lifecycle events', () => {
    const follow = only(decode('follow'));
    assert.deepEqual(follow.type === 'lifecycle' && [follow.change, follow.customerId, follow.replyToken], ['follow', USER, '9d238564972809ea3a43ed8482e2fff9']);
    const unfollow = only(decode('unfollow'));
    assert.deepEqual(unfollow.type === 'lifecycle' && [unfollow.change, unfollow.replyToken], ['unfollow', undefined]);
  });

  it('a redelivery keeps its key; a batch splits; the probe yields nothing', () => {
    assert.equal(only(decode('redelivery')).key, '01HF7YAT00CC729AB4SVA1NHMX');
    const batch = decode('batch');
    assert.equal(batch.length, 2);
    assert.notEqual(batch[0]!.key, batch[1]!.key);
    assert.deepEqual(decode('probe'), []);
  });

  it('standby events are flagged; groups, unknown events and malformed bodies are unsupported', () => {
    const common = { webhookEventId: '01HSTANDBY0000000000000000', timestamp: 5, deliveryContext: { isRedelivery: false }, source: { type: 'user', userId: USER } };
    const standby = only(adapter.decode(webhookOf({ rawBody: body([{ type: 'message', mode: 'standby', message: { type: 'text', id: '1', text: 'x' }, ...common }]), headers: {} })));
    assert.equal(standby.type === 'message' && standby.standby, true);
    const group = only(adapter.decode(webhookOf({ rawBody: body([{ type: 'message', message: { type: 'text', id: '2', text: 'x' }, ...common, source: { type: 'group', groupId: 'C1', userId: USER } }]), headers: {} })));
    assert.equal(group.type, 'unsupported');
    assert.equal(group.key, common.webhookEventId);
    const unsend = only(adapter.decode(webhookOf({ rawBody: body([{ type: 'unsend', unsend: { messageId: '1' }, ...common }]), headers: {} })));
    assert.match(unsend.type === 'unsupported' ? unsend.reason : '', /unsend/);
    const imagemap = only(adapter.decode(webhookOf({ rawBody: body([{ type: 'message', message: { type: 'imagemap', id: '3' }, ...common }]), headers: {} })));
    assert.equal(imagemap.type, 'unsupported');
    for (const raw of ['', 'nope', '{}', '[]', '{"events":[null]}', '{"destination":"U1","events":[{"type":"message"}]}']) {
      const events = adapter.decode(webhookOf({ rawBody: raw, headers: {} }));
      assert.equal(events.length, 1, raw);
      assert.equal(events[0]!.type, 'unsupported', raw);
    }
  });

  it('acknowledges with an empty JSON object', () => {
    assert.deepEqual(adapter.ack(), { status: 200, contentType: 'application/json', body: '{}' });
  });

  it('derives retry keys as stable UUIDs from the idempotency key', () => {
    const key = retryKeyFor('message-1');
    assert.match(key, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(retryKeyFor('message-1'), key);
    assert.notEqual(retryKeyFor('message-2'), key);
  });
});
