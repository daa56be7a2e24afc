import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { validateSignature } from '@line/bot-sdk';
import { createClock } from '../../src/sandbox/clock.ts';
import { LineEmulator } from '../../src/sandbox/line/emulator.ts';
import { startReceiver } from './receiver.ts';

const CHANNEL = {
  channelId: '2000000001',
  channelSecret: 'line-channel-secret',
  accessToken: 'line-access-token',
  botUserId: 'U' + 'a'.repeat(32),
};
const USER = 'U' + 'b'.repeat(32);

describe('LINE emulator', () => {
  const clock = createClock();
  const line = new LineEmulator({ clock });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let api = '';
  let data = '';

  before(async () => {
    receiver = await startReceiver();
    api = await line.listen();
    data = await line.listenData();
  });
  after(async () => {
    await line.close();
    await receiver.close();
  });
  beforeEach(() => {
    line.reset({ keepSeeds: false });
    clock.reset();
    receiver.received.length = 0;
    receiver.respondWith(() => undefined);
    line.settings.webhookTimeoutMs = 300;
    line.seedChannel({ ...CHANNEL, webhookEndpoint: `${receiver.url}/webhooks/line` });
  });

  const call = (path: string, body?: unknown, headers: Record<string, string> = {}, method = 'POST', base = api) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${CHANNEL.accessToken}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const text = (t: string) => [{ type: 'text', text: t }];

  it('delivers a signed message event the official SDK accepts', async () => {
    const result = await line.receive({ channel: CHANNEL.channelId, userId: USER, text: 'こんにちは hello' });
    assert.equal(result.deliveries[0]?.ok, true);
    const request = receiver.received[0]!;
    assert.equal(validateSignature(request.body, CHANNEL.channelSecret, String(request.headers['x-line-signature'])), true);
    assert.equal(validateSignature(request.body, 'other', String(request.headers['x-line-signature'])), false);
    const payload = JSON.parse(request.body);
    assert.equal(payload.destination, CHANNEL.botUserId);
    const event = payload.events[0];
    assert.equal(event.type, 'message');
    assert.equal(event.mode, 'active');
    assert.match(event.webhookEventId, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.equal(event.deliveryContext.isRedelivery, false);
    assert.equal(event.source.userId, USER);
    assert.match(event.replyToken, /^[0-9a-f]{32}$/);
    assert.equal(event.message.text, 'こんにちは hello');
    assert.match(event.message.id, /^\d+$/);
  });

  it('reply tokens work once, and not after they expire', async () => {
    const first = await line.receive({ channel: CHANNEL.channelId, userId: USER, text: 'hi' });
    const ok = await call('/v2/bot/message/reply', { replyToken: first.replyToken, messages: text('hello') });
    assert.equal(ok.status, 200);
    const sent = (await ok.json()) as { sentMessages: Array<{ id: string; quoteToken: string }> };
    assert.match(sent.sentMessages[0]!.id, /^\d+$/);
    assert.ok(ok.headers.get('x-line-request-id'));
    const again = await call('/v2/bot/message/reply', { replyToken: first.replyToken, messages: text('again') });
    assert.equal(again.status, 400);
    assert.deepEqual(await again.json(), { message: 'Invalid reply token' });
    const second = await line.receive({ channel: CHANNEL.channelId, userId: USER, text: 'hi again' });
    clock.advance(61_000);
    const late = await call('/v2/bot/message/reply', { replyToken: second.replyToken, messages: text('late') });
    assert.deepEqual(await late.json(), { message: 'Invalid reply token' });
  });

  it('push with a retry key answers 409 with the accepted request the second time', async () => {
    const key = '123e4567-e89b-12d3-a456-426614174000';
    const first = await call('/v2/bot/message/push', { to: USER, messages: text('one') }, { 'x-line-retry-key': key });
    assert.equal(first.status, 200);
    const firstBody = (await first.json()) as { sentMessages: unknown[] };
    const requestId = first.headers.get('x-line-request-id');
    const second = await call('/v2/bot/message/push', { to: USER, messages: text('one') }, { 'x-line-retry-key': key });
    assert.equal(second.status, 409);
    assert.equal(second.headers.get('x-line-accepted-request-id'), requestId);
    assert.notEqual(second.headers.get('x-line-request-id'), requestId);
    const secondBody = (await second.json()) as { message: string; sentMessages: unknown[] };
    assert.equal(secondBody.message, 'The retry key is already accepted');
    assert.deepEqual(secondBody.sentMessages, firstBody.sentMessages);
    assert.equal(line.messages.length, 1);
    const onReply = await call('/v2/bot/message/reply', { replyToken: 'x', messages: text('x') }, { 'x-line-retry-key': key });
    assert.equal(onReply.status, 400);
  });

  it('reports validation errors in LINE shape', async () => {
    const response = await call('/v2/bot/message/push', { to: USER, messages: [{ type: 'text', text: '' }, { type: 'image', originalContentUrl: 'http://x/a.jpg' }] });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { message: string; details: Array<{ message: string; property: string }> };
    assert.equal(body.message, `The request body has ${body.details.length} error(s)`);
    assert.deepEqual(body.details.map((d) => d.property), ['messages[0].text', 'messages[1].originalContentUrl', 'messages[1].previewImageUrl']);
    const six = await call('/v2/bot/message/push', { to: USER, messages: Array.from({ length: 6 }, () => ({ type: 'text', text: 'x' })) });
    assert.deepEqual(((await six.json()) as { details: unknown[] }).details, [{ message: 'Size must be between 1 and 5', property: 'messages' }]);
    const long = await call('/v2/bot/message/push', { to: USER, messages: text('x'.repeat(5001)) });
    assert.equal(long.status, 400);
  });

  it('answers 401 for missing or wrong tokens and 429 when rate limited', async () => {
    const missing = await fetch(`${api}/v2/bot/info`);
    assert.equal(missing.status, 401);
    const wrong = await call('/v2/bot/info', undefined, { authorization: 'Bearer nope' }, 'GET');
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as { message: string }).message, /^Authentication failed due to the following reason: /);
    line.injectFault({ kind: 'rate-limit', times: 1, match: { token: CHANNEL.accessToken } });
    const limited = await call('/v2/bot/message/push', { to: USER, messages: text('x') });
    assert.equal(limited.status, 429);
    assert.deepEqual(await limited.json(), { message: 'The API rate limit has been exceeded. Try again later.' });
    const info = (await (await call('/v2/bot/info', undefined, {}, 'GET')).json()) as { userId: string };
    assert.equal(info.userId, CHANNEL.botUserId);
  });

  it('serves content from the data host, 202 while preparing', async () => {
    const bytes = Buffer.from('video-bytes');
    const result = await line.receive({ channel: CHANNEL.channelId, userId: USER, attachment: { kind: 'video', bytes, contentType: 'video/mp4', preparingPolls: 1 } });
    const path = `/v2/bot/message/${result.messageId}/content`;
    const pending = await call(path, undefined, {}, 'GET', data);
    assert.equal(pending.status, 202);
    assert.equal(pending.headers.get('x-line-request-id') !== null, true);
    const ready = await call(path, undefined, {}, 'GET', data);
    assert.equal(ready.status, 200);
    assert.equal(ready.headers.get('content-type'), 'video/mp4');
    assert.deepEqual(Buffer.from(await ready.arrayBuffer()), bytes);
    assert.deepEqual(await (await call(`${path}/transcoding`, undefined, {}, 'GET', data)).json(), { status: 'succeeded' });
    assert.equal((await call('/v2/bot/message/1/content', undefined, {}, 'GET', data)).status, 404);
    line.contents.get(result.messageId!)!.gone = true;
    assert.equal((await call(path, undefined, {}, 'GET', data)).status, 410);
  });

  it('probes a new webhook endpoint with an empty signed event list', async () => {
    const response = await call('/v2/bot/channel/webhook/endpoint', { endpoint: `${receiver.url}/new` }, {}, 'PUT');
    assert.equal(response.status, 200);
    const probe = receiver.received.find((r) => r.url === '/new')!;
    assert.equal(probe.body, `{"destination":"${CHANNEL.botUserId}","events":[]}`);
    assert.equal(validateSignature(probe.body, CHANNEL.channelSecret, String(probe.headers['x-line-signature'])), true);
    assert.deepEqual(await (await call('/v2/bot/channel/webhook/endpoint', undefined, {}, 'GET')).json(), { endpoint: `${receiver.url}/new`, active: true });
    receiver.respondWith(() => ({ status: 500 }));
    const test = (await (await call('/v2/bot/channel/webhook/test', {})).json()) as { success: boolean; statusCode: number; reason: string };
    assert.deepEqual([test.success, test.statusCode, test.reason], [false, 500, 'ERROR_STATUS_CODE']);
    const bad = await call('/v2/bot/channel/webhook/endpoint', { endpoint: 'not a url' }, {}, 'PUT');
    assert.deepEqual(await bad.json(), { message: 'Invalid webhook endpoint URL' });
  });

  it('redelivers with the same webhookEventId and replyToken when redelivery is on', async () => {
    line.channel(CHANNEL.channelId).redelivery = true;
    let calls = 0;
    receiver.respondWith(() => (++calls === 1 ? { status: 503 } : undefined));
    const result = await line.receive({ channel: CHANNEL.channelId, userId: USER, text: 'again?' });
    assert.equal(result.deliveries[0]?.attempts.length, 2);
    const [first, second] = receiver.received.map((r) => JSON.parse(r.body).events[0]);
    assert.equal(first.deliveryContext.isRedelivery, false);
    assert.equal(second.deliveryContext.isRedelivery, true);
    assert.equal(second.webhookEventId, first.webhookEventId);
    assert.equal(second.replyToken, first.replyToken);
    assert.equal(validateSignature(receiver.received[1]!.body, CHANNEL.channelSecret, String(receiver.received[1]!.headers['x-line-signature'])), true);
  });

  it('returns profiles only for users who befriended the channel', async () => {
    assert.equal((await call(`/v2/bot/profile/${USER}`, undefined, {}, 'GET')).status, 404);
    line.seedUser({ userId: USER, displayName: 'Aiko' });
    await line.receive({ channel: CHANNEL.channelId, userId: USER, event: 'follow' });
    const profile = (await (await call(`/v2/bot/profile/${USER}`, undefined, {}, 'GET')).json()) as { displayName: string; userId: string };
    assert.deepEqual([profile.displayName, profile.userId], ['Aiko', USER]);
  });
});
