import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryKeyFor } from '../../../src/providers/line/index.ts';
import { createAdapters } from '../../../src/providers/registry.ts';
import { ProviderError, type OutboundMessage } from '../../../src/providers/types.ts';
import { DEMO } from '../../../src/sandbox/index.ts';
import { endpointsOf, lineCredentials, useSandbox, webhookFromSay, rejection } from '../helpers.ts';

const USER = DEMO.line.customerUserId;
const message = (extra: Partial<OutboundMessage> = {}): OutboundMessage => ({ to: USER, text: 'Hello from Parley', idempotencyKey: 'msg-1', ...extra });

describe('LINE adapter against the sandbox', () => {
  const ctx = useSandbox();
  const adapter = () => ctx.adapters.get('line');
  const customerWrites = (extra: Record<string, unknown> = {}) =>
    ctx.sandbox.customer.say({ channel: 'line', to: DEMO.line.channelId, from: USER, text: 'こんにちは', ...extra });
  const calls = (path: string) => ctx.sandbox.line.sent.all().filter((c) => c.path === path);

  it('an inbound message verifies and decodes with its reply token', async () => {
    const said = await customerWrites();
    const webhook = webhookFromSay(said);
    assert.equal(adapter().verify(webhook, lineCredentials), true);
    const [event] = adapter().decode(webhook);
    assert.equal(event?.type === 'message' && event.replyToken, said.replyToken);
    assert.equal(event?.type === 'message' && event.providerMessageId, said.messageId);
  });

  it('follow, unfollow and a redelivery arrive as LINE sends them', async () => {
    const follow = await ctx.sandbox.customer.lineFollow(DEMO.line.channelId, USER, true);
    const [followed] = adapter().decode(webhookFromSay(follow));
    assert.equal(followed?.type === 'lifecycle' && followed.change, 'follow');
    assert.equal(followed?.type === 'lifecycle' && followed.replyToken, follow.replyToken);
    const unfollow = await ctx.sandbox.customer.lineFollow(DEMO.line.channelId, USER, false);
    const [unfollowed] = adapter().decode(webhookFromSay(unfollow));
    assert.equal(unfollowed?.type === 'lifecycle' && unfollowed.change, 'unfollow');
    ctx.sandbox.line.injectFault({ kind: 'redeliver', times: 1 });
    const said = await customerWrites();
    const [first, again] = said.deliveries.map((d) => ({ method: 'POST', url: d.url, headers: d.attempts[0]!.headers, body: Buffer.from(d.attempts[0]!.body) }));
    assert.ok(first && again);
    assert.equal(adapter().verify(again, lineCredentials), true);
    assert.match(again.body.toString(), /"isRedelivery":true/);
    assert.equal(adapter().decode(again)[0]?.key, adapter().decode(first)[0]?.key);
  });

  it('replies with a fresh reply token, for free', async () => {
    const said = await customerWrites();
    const result = await adapter().send(message({ replyToken: said.replyToken }), lineCredentials);
    assert.equal(result.usedReplyToken, true);
    const [sent] = ctx.sandbox.line.messages.all();
    assert.equal(sent?.api, 'reply');
    assert.deepEqual(sent?.messages, [{ type: 'text', text: 'Hello from Parley' }]);
    assert.deepEqual(result.providerMessageIds, sent?.sentMessages.map((m) => m.id));
    assert.equal(calls('/v2/bot/message/reply')[0]?.headers['x-line-retry-key'], undefined);
  });

  it('an expired reply token falls back to a push, sent exactly once', async () => {
    const said = await customerWrites();
    ctx.sandbox.clock.advance(61_000);
    const result = await adapter().send(message({ replyToken: said.replyToken }), lineCredentials);
    assert.equal(result.usedReplyToken, false);
    assert.deepEqual(calls('/v2/bot/message/reply').map((c) => c.status), [400]);
    const sent = ctx.sandbox.line.messages.all();
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.api, 'push');
    assert.equal(sent[0]?.to, USER);
    assert.equal(sent[0]?.retryKey, retryKeyFor('msg-1'));
    assert.deepEqual(result.providerMessageIds, sent[0]?.sentMessages.map((m) => m.id));
  });

  it('a used reply token also falls back to push', async () => {
    const said = await customerWrites();
    await adapter().send(message({ replyToken: said.replyToken, idempotencyKey: 'first' }), lineCredentials);
    const second = await adapter().send(message({ replyToken: said.replyToken, idempotencyKey: 'second' }), lineCredentials);
    assert.equal(second.usedReplyToken, false);
    assert.deepEqual(ctx.sandbox.line.messages.all().map((m) => m.api), ['reply', 'push']);
  });

  it('a push retried with the same idempotency key is not delivered twice (409 is success)', async () => {
    await customerWrites();
    const first = await adapter().send(message(), lineCredentials);
    const again = await adapter().send(message(), lineCredentials);
    assert.deepEqual(again.providerMessageIds, first.providerMessageIds);
    assert.deepEqual(calls('/v2/bot/message/push').map((c) => c.status), [200, 409]);
    assert.equal(ctx.sandbox.line.messages.all().length, 1);
    assert.match(calls('/v2/bot/message/push')[0]?.headers['x-line-retry-key'] ?? '', /^[0-9a-f-]{36}$/);
  });

  it('splits beyond five message objects, with previews for images and videos', async () => {
    await customerWrites();
    const image = (n: number) => ({ kind: 'image' as const, url: `https://files.example.com/${n}.jpg`, contentType: 'image/jpeg' });
    const result = await adapter().send(
      message({
        attachments: [
          image(1),
          { kind: 'video', url: 'https://files.example.com/v.mp4', contentType: 'video/mp4', previewUrl: 'https://files.example.com/v.jpg' },
          { kind: 'audio', url: 'https://files.example.com/a.m4a', contentType: 'audio/mp4', durationMs: 3000 },
          image(2),
          image(3),
          { ...image(4), previewUrl: 'https://files.example.com/4-small.jpg' },
        ],
      }),
      lineCredentials,
    );
    const sent = ctx.sandbox.line.messages.all();
    assert.deepEqual(sent.map((m) => m.messages.length), [5, 2]);
    assert.equal(result.providerMessageIds.length, 7);
    assert.deepEqual(sent[0]?.messages[1], { type: 'image', originalContentUrl: 'https://files.example.com/1.jpg', previewImageUrl: 'https://files.example.com/1.jpg' });
    assert.deepEqual(sent[0]?.messages[2], { type: 'video', originalContentUrl: 'https://files.example.com/v.mp4', previewImageUrl: 'https://files.example.com/v.jpg' });
    assert.deepEqual(sent[0]?.messages[3], { type: 'audio', originalContentUrl: 'https://files.example.com/a.m4a', duration: 3000 });
    assert.deepEqual(sent[1]?.messages[1], { type: 'image', originalContentUrl: 'https://files.example.com/4.jpg', previewImageUrl: 'https://files.example.com/4-small.jpg' });
    assert.notEqual(sent[0]?.retryKey, sent[1]?.retryKey);
  });

  it('refuses what LINE cannot send before calling it', async () => {
    for (const extra of [
      { attachments: [{ kind: 'file' as const, url: 'https://files.example.com/a.pdf', contentType: 'application/pdf' }] },
      { attachments: [{ kind: 'video' as const, url: 'https://files.example.com/a.mp4', contentType: 'video/mp4' }] },
      { template: { providerTemplateId: 'x', variables: {} } },
      { text: undefined },
    ]) {
      const error = await rejection(adapter().send(message(extra), lineCredentials));
      assert.equal(error.errorClass, 'invalid_request');
    }
    assert.equal(ctx.sandbox.line.sent.all().length, 0);
  });

  it('classifies refusals by HTTP status', async () => {
    const cases = [
      { kind: 'invalid-token', errorClass: 'auth', code: '401' },
      { kind: 'expired-token', errorClass: 'auth', code: '401' },
      { kind: 'rate-limit', errorClass: 'rate_limited', code: '429' },
      { kind: 'app-rate-limit', errorClass: 'rate_limited', code: '429' },
      { kind: 'server-error', errorClass: 'transient', code: '500' },
      { kind: 'drop', errorClass: 'transient', code: 'network' },
    ] as const;
    for (const { kind, errorClass, code } of cases) {
      ctx.sandbox.line.injectFault({ kind, times: 1 });
      const error = await rejection(adapter().send(message({ idempotencyKey: kind }), lineCredentials));
      assert.equal(error.errorClass, errorClass, kind);
      assert.equal(error.info.code, code, kind);
    }
    const invalidTo = await rejection(adapter().send(message({ to: 'nobody' }), lineCredentials));
    assert.equal(invalidTo.errorClass, 'invalid_request');
    // A reply refused for a reason other than its token (here the body) is not sent by push either.
    const said = await customerWrites();
    const tooLong = await rejection(adapter().send(message({ text: 'x'.repeat(5001), replyToken: said.replyToken }), lineCredentials));
    assert.equal(tooLong.errorClass, 'invalid_request');
    assert.match(tooLong.info.message, /messages\[0\]\.text/);
    assert.equal(ctx.sandbox.line.messages.all().length, 0);
  });

  it('fetches content from the data host, waiting while LINE prepares it', async () => {
    const bytes = Buffer.from('fake mp4 bytes');
    const said = await customerWrites({ text: undefined, attachment: { kind: 'video', data: bytes, contentType: 'video/mp4' } });
    const [event] = adapter().decode(webhookFromSay(said));
    const ref = event?.type === 'message' ? event.content.attachments[0] : undefined;
    assert.ok(ref?.contentId);
    ctx.sandbox.line.contents.get(ref.contentId)!.pendingPolls = 1;
    assert.deepEqual(await adapter().fetchMedia(ref, lineCredentials), { status: 'preparing', retryAfterMs: 500 });
    const ready = await adapter().fetchMedia(ref, lineCredentials);
    assert.equal(ready.status, 'ready');
    assert.deepEqual(ready.status === 'ready' && ready.bytes, bytes);
    assert.equal(ready.status === 'ready' && ready.contentType, 'video/mp4');
    assert.equal(calls(`/v2/bot/message/${ref.contentId}/content`)[0]?.headers.authorization, `Bearer ${DEMO.line.accessToken}`);
    const small = createAdapters(endpointsOf(ctx.sandbox), { maxMediaBytes: 3 }).get('line');
    assert.equal((await rejection(small.fetchMedia(ref, lineCredentials))).info.code, 'too_large');
    ctx.sandbox.line.contents.get(ref.contentId)!.gone = true;
    assert.equal((await rejection(adapter().fetchMedia(ref, lineCredentials))).errorClass, 'invalid_request');
    assert.equal((await rejection(adapter().fetchMedia({ kind: 'image', contentId: '1' }, lineCredentials))).errorClass, 'invalid_request');
  });

  it('reads a friend\'s profile; a stranger has none', async () => {
    await customerWrites();
    assert.deepEqual(await adapter().fetchProfile(USER, lineCredentials), {
      displayName: 'Demo Customer',
      avatarUrl: `https://profile.line-scdn.net/sandbox/${USER}`,
      locale: 'en',
    });
    assert.equal(await adapter().fetchProfile('U' + 'f'.repeat(32), lineCredentials), null);
  });

  it('checks credentials', async () => {
    assert.deepEqual(await adapter().checkCredentials(lineCredentials), { ok: true, name: 'Parley Demo' });
    const refused = await adapter().checkCredentials({ ...lineCredentials, channelAccessToken: 'wrong' });
    assert.equal(refused.ok, false);
    assert.equal(refused.error?.code, '401');
    assert.equal(refused.error?.errorClass, 'auth');
  });

  it('provisions the webhook endpoint, and explains a refused non-https URL', async () => {
    const callbackUrl = `${ctx.receiver.url}/webhooks/line/abc`;
    const running = await adapter().provision(lineCredentials, { callbackUrl });
    assert.equal(running.status, 'running');
    assert.equal(ctx.sandbox.line.channel(DEMO.line.channelId).webhookEndpoint, callbackUrl);
    assert.match(running.manualSteps.join(' '), /Use webhook/);
    const refused = await adapter().provision(lineCredentials, { callbackUrl: 'ftp://parley.example.com/webhooks/line' });
    assert.equal(refused.status, 'needs_attention');
    assert.match(refused.reason ?? '', /only https/);
    assert.match(refused.manualSteps[0] ?? '', /https/);
    const unauthorised = await adapter().provision({ ...lineCredentials, channelAccessToken: 'wrong' }, { callbackUrl: 'https://parley.example.com/webhooks/line' });
    assert.equal(unauthorised.status, 'needs_attention');
    assert.match(unauthorised.manualSteps[0] ?? '', /channel access token/);
  });
});
