import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createClock, HOUR, DAY } from '../../src/sandbox/clock.ts';
import { FacebookEmulator } from '../../src/sandbox/facebook/emulator.ts';
import { metaSignatureHeaders } from '../../src/sandbox/signing.ts';
import { startReceiver } from './receiver.ts';

const APP = { appId: '900000000000001', appSecret: 'fb-app-secret' };
const PAGE = { pageId: '100000000000001', accessToken: 'EAAPAGE', appId: APP.appId, name: 'Acme Support' };
const PSID = '2000000000000001';

describe('Facebook Graph emulator', () => {
  const clock = createClock();
  const fb = new FacebookEmulator({ clock });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let base = '';

  before(async () => {
    receiver = await startReceiver();
    base = await fb.listen();
  });
  after(async () => {
    await fb.close();
    await receiver.close();
  });
  beforeEach(() => {
    fb.reset({ keepSeeds: false });
    clock.reset();
    receiver.received.length = 0;
    receiver.respondWith(() => undefined);
    fb.settings.webhookTimeoutMs = 300;
    fb.settings.receiptDelayMs = 5;
    fb.seedApp({ ...APP, callbackUrl: `${receiver.url}/webhooks/facebook` });
    fb.seedPage(PAGE);
  });

  const send = (body: unknown, token = PAGE.accessToken, path = '/v25.0/me/messages') =>
    fetch(`${base}${path}?access_token=${encodeURIComponent(token)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('delivers a customer message signed over the exact Meta-escaped bytes', async () => {
    const result = await fb.receive({ pageId: PAGE.pageId, psid: PSID, text: 'Café ok? https://example.com' });
    assert.equal(result.deliveries[0]?.ok, true);
    const request = receiver.received[0]!;
    assert.match(request.body, /Caf\\u00e9 ok\? https:\\\/\\\/example\.com/);
    const expected = metaSignatureHeaders(request.body, APP.appSecret);
    assert.equal(request.headers['x-hub-signature-256'], expected['x-hub-signature-256']);
    assert.equal(request.headers['x-hub-signature'], expected['x-hub-signature']);
    const payload = JSON.parse(request.body);
    assert.equal(payload.object, 'page');
    assert.equal(payload.entry[0].id, PAGE.pageId);
    assert.equal(payload.entry[0].messaging[0].sender.id, PSID);
    assert.equal(payload.entry[0].messaging[0].message.text, 'Café ok? https://example.com');
  });

  it('accepts a reply inside the window and then echoes it and reports delivery', async () => {
    await fb.receive({ pageId: PAGE.pageId, psid: PSID, text: 'hi' });
    const response = await send({ recipient: { id: PSID }, messaging_type: 'RESPONSE', message: { text: 'Hello!', metadata: 'parley:42' } });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { recipient_id: string; message_id: string };
    assert.equal(body.recipient_id, PSID);
    assert.match(body.message_id, /^m_/);
    await receiver.waitFor(3);
    const events = receiver.received.slice(1).map((r) => JSON.parse(r.body).entry[0].messaging[0]);
    const echo = events.find((e) => e.message?.is_echo);
    assert.equal(echo.message.mid, body.message_id);
    assert.equal(echo.message.app_id, Number(APP.appId));
    assert.equal(echo.message.metadata, 'parley:42');
    assert.equal(echo.sender.id, PAGE.pageId);
    const delivery = events.find((e) => e.delivery);
    assert.deepEqual(delivery.delivery.mids, [body.message_id]);
    assert.equal(fb.messages.length, 1);
  });

  it('refuses RESPONSE 25 hours after the customer wrote, allows HUMAN_AGENT until 7 days', async () => {
    await fb.receive({ pageId: PAGE.pageId, psid: PSID, text: 'hi' });
    clock.advance(25 * HOUR);
    const late = await send({ recipient: { id: PSID }, messaging_type: 'RESPONSE', message: { text: 'late' } });
    assert.equal(late.status, 400);
    const error = ((await late.json()) as { error: Record<string, unknown> }).error;
    assert.equal(error.code, 10);
    assert.equal(error.error_subcode, 2018278);
    assert.equal(error.type, 'OAuthException');
    assert.equal(error.message, '(#10) This message is sent outside of allowed window.');
    assert.equal(typeof error.fbtrace_id, 'string');
    const tagged = await send({ recipient: { id: PSID }, messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', message: { text: 'agent here' } });
    assert.equal(tagged.status, 200);
    clock.advance(6 * DAY);
    const tooLate = await send({ recipient: { id: PSID }, messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', message: { text: 'still?' } });
    assert.equal(((await tooLate.json()) as { error: { code: number } }).error.code, 10);
  });

  it('validates bodies like Graph (code 100)', async () => {
    await fb.receive({ pageId: PAGE.pageId, psid: PSID, text: 'hi' });
    const cases: Array<[unknown, RegExp]> = [
      [{ message: { text: 'x' } }, /recipient is required/],
      [{ recipient: { id: PSID }, message: { text: 'x', attachment: { type: 'image', payload: { url: 'https://x/y.png' } } } }, /Only one of text or attachment/],
      [{ recipient: { id: PSID }, message: { text: 'a'.repeat(2001) } }, /less than or equal to 2000/],
      [{ recipient: { id: PSID } }, /Must send either message or state/],
    ];
    for (const [body, message] of cases) {
      const response = await send(body);
      assert.equal(response.status, 400);
      const error = ((await response.json()) as { error: { code: number; message: string } }).error;
      assert.equal(error.code, 100);
      assert.match(error.message, message);
    }
    const ok = await send({ recipient: { id: PSID }, message: { text: 'a'.repeat(2000) } });
    assert.equal(ok.status, 200);
  });

  it('accepts form fields holding JSON strings, the page-id path and a Bearer token', async () => {
    await fb.receive({ pageId: PAGE.pageId, psid: PSID, text: 'hi' });
    const form = new URLSearchParams({ recipient: JSON.stringify({ id: PSID }), message: JSON.stringify({ text: 'form' }), messaging_type: 'RESPONSE' });
    const response = await fetch(`${base}/v19.0/${PAGE.pageId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${PAGE.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    assert.equal(response.status, 200);
    assert.equal(fb.messages.last()?.message.text, 'form');
  });

  it('answers 190 for an unknown token', async () => {
    const response = await send({ recipient: { id: PSID }, message: { text: 'x' } }, 'nope');
    const error = ((await response.json()) as { error: { code: number; type: string } }).error;
    assert.equal(response.status, 400);
    assert.equal(error.code, 190);
    assert.equal(error.type, 'OAuthException');
  });

  it('injects token, rate-limit and server faults for the next N requests', async () => {
    await fb.receive({ pageId: PAGE.pageId, psid: PSID, text: 'hi' });
    const body = { recipient: { id: PSID }, message: { text: 'x' } };
    fb.injectFault({ kind: 'expired-token', times: 1, match: { target: PAGE.pageId } });
    const expired = (await (await send(body)).json()) as { error: { code: number; error_subcode: number; message: string } };
    assert.equal(expired.error.code, 190);
    assert.equal(expired.error.error_subcode, 463);
    assert.match(expired.error.message, /^Error validating access token: Session has expired/);
    fb.injectFault({ kind: 'rate-limit', times: 1 });
    assert.equal(((await (await send(body)).json()) as { error: { code: number } }).error.code, 613);
    fb.injectFault({ kind: 'app-rate-limit', times: 1 });
    assert.equal(((await (await send(body)).json()) as { error: { code: number } }).error.code, 4);
    fb.injectFault({ kind: 'server-error', times: 1 });
    assert.equal((await send(body)).status, 500);
    fb.injectFault({ kind: 'outside-window', times: 1 });
    assert.equal(((await (await send(body)).json()) as { error: { error_subcode: number } }).error.error_subcode, 2018278);
    fb.injectFault({ kind: 'drop', times: 1 });
    await assert.rejects(send(body));
    assert.equal((await send(body)).status, 200);
  });

  it('performs the verify handshake and registers the callback only when the challenge is echoed', async () => {
    fb.apps.get(APP.appId)!.callbackUrl = undefined;
    receiver.respondWith((r) => {
      const url = new URL(r.url, 'http://x');
      if (r.method !== 'GET') return undefined;
      return url.searchParams.get('hub.verify_token') === 'right'
        ? { status: 200, body: url.searchParams.get('hub.challenge') ?? '' }
        : { status: 403, body: 'forbidden' };
    });
    const subscribe = (verifyToken: string) =>
      fetch(`${base}/v25.0/${APP.appId}/subscriptions?access_token=${encodeURIComponent(`${APP.appId}|${APP.appSecret}`)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ object: 'page', callback_url: `${receiver.url}/hook`, verify_token: verifyToken, fields: 'messages,messaging_postbacks' }).toString(),
      });
    const refused = await subscribe('wrong');
    assert.equal(refused.status, 400);
    assert.equal(fb.apps.get(APP.appId)!.callbackUrl, undefined);
    const accepted = await subscribe('right');
    assert.deepEqual(await accepted.json(), { success: true });
    assert.equal(fb.apps.get(APP.appId)!.callbackUrl, `${receiver.url}/hook`);
    const get = receiver.received.find((r) => r.method === 'GET')!;
    const query = new URL(get.url, 'http://x').searchParams;
    assert.equal(query.get('hub.mode'), 'subscribe');
    assert.match(query.get('hub.challenge') ?? '', /^\d+$/);
  });

  it('retries a webhook answered with 500, and one answered too slowly', async () => {
    let calls = 0;
    // count only this test's webhook: a late receipt of an earlier test may still arrive
    receiver.respondWith((request) => (request.body.includes('retry me') && ++calls <= 2 ? { status: 500 } : undefined));
    const result = await fb.receive({ pageId: PAGE.pageId, psid: PSID, text: 'retry me' });
    assert.equal(result.deliveries[0]?.attempts.length, 3);
    assert.equal(result.deliveries[0]?.ok, true);
    assert.equal(new Set(receiver.received.filter((r) => r.body.includes('retry me')).map((r) => r.body)).size, 1);
    calls = 0;
    receiver.respondWith((request) => (request.body.includes('slow') && ++calls === 1 ? { status: 200, delayMs: 500 } : undefined));
    const slow = await fb.receive({ pageId: PAGE.pageId, psid: PSID, text: 'slow' });
    assert.equal(slow.deliveries[0]?.attempts[0]?.error, 'timeout');
    assert.equal(slow.deliveries[0]?.ok, true);
  });

  it('unsubscribes the app from its pages after an hour of continuous delivery failure', async () => {
    fb.settings.webhookRetries = 0;
    receiver.respondWith(() => ({ status: 500 }));
    await fb.receive({ pageId: PAGE.pageId, psid: PSID, text: 'first failure' });
    clock.advance(59 * 60_000);
    await fb.receive({ pageId: PAGE.pageId, psid: PSID, text: 'still failing' });
    assert.notEqual(fb.pages.get(PAGE.pageId)!.subscribedFields, null);
    clock.advance(2 * 60_000);
    await fb.receive({ pageId: PAGE.pageId, psid: PSID, text: 'an hour later' });
    assert.equal(fb.pages.get(PAGE.pageId)!.subscribedFields, null);
    const after = await fb.receive({ pageId: PAGE.pageId, psid: PSID, text: 'nobody listens' });
    assert.match(after.skipped ?? '', /not subscribed/);
  });

  it('handover: refuses sends while another app owns the thread, until the page app takes control back', async () => {
    await fb.receive({ pageId: PAGE.pageId, psid: PSID, text: 'hi' });
    const other = '263902037430900';
    const owner = await fetch(`${base}/_sandbox/thread-owner`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pageId: PAGE.pageId, psid: PSID, appId: other }),
    });
    assert.deepEqual(await owner.json(), { ok: true, owner: other });
    const refused = await send({ recipient: { id: PSID }, message: { text: 'not yours' } });
    assert.equal(refused.status, 400);
    const { error } = (await refused.json()) as { error: { code: number; error_subcode: number } };
    assert.equal(error.code, 10);
    assert.equal(error.error_subcode, 2018300);
    assert.equal(fb.messages.length, 0);

    const passRefused = await send({ recipient: { id: PSID }, target_app_id: other }, PAGE.accessToken, `/v25.0/${PAGE.pageId}/pass_thread_control`);
    assert.equal(((await passRefused.json()) as { error: { error_subcode: number } }).error.error_subcode, 2018300, 'only the owner passes the thread');
    const take = await send({ recipient: { id: PSID }, metadata: 'agent replied' }, PAGE.accessToken, '/v25.0/me/take_thread_control');
    assert.deepEqual(await take.json(), { success: true });
    assert.equal(fb.threadOwner(PAGE.pageId, PSID), APP.appId);
    assert.equal((await send({ recipient: { id: PSID }, message: { text: 'mine again' } })).status, 200);

    const missing = await send({ recipient: { id: PSID } }, PAGE.accessToken, `/v25.0/${PAGE.pageId}/pass_thread_control`);
    assert.equal(((await missing.json()) as { error: { code: number } }).error.code, 100);
    const pass = await send({ recipient: { id: PSID }, target_app_id: Number(other) }, PAGE.accessToken, `/v25.0/${PAGE.pageId}/pass_thread_control`);
    assert.deepEqual(await pass.json(), { success: true });
    assert.equal(fb.threadOwner(PAGE.pageId, PSID), other);
    assert.equal((await send({ recipient: { id: '999' } }, PAGE.accessToken, '/v25.0/me/take_thread_control')).status, 400);
    fb.reset({ keepSeeds: true });
    assert.equal(fb.threadOwner(PAGE.pageId, PSID), APP.appId, 'a reset gives threads back to the page app');
  });

  it('serves profiles, page identity and subscribed_apps', async () => {
    await fb.receive({ pageId: PAGE.pageId, psid: PSID, text: 'hi' });
    const token = `access_token=${PAGE.accessToken}`;
    const profile = (await (await fetch(`${base}/v25.0/${PSID}?fields=first_name,last_name,profile_pic&${token}`)).json()) as Record<string, string>;
    assert.equal(profile.id, PSID);
    assert.equal(typeof profile.first_name, 'string');
    assert.match(profile.profile_pic ?? '', /^http/);
    assert.deepEqual(await (await fetch(`${base}/v25.0/me?${token}`)).json(), { name: PAGE.name, id: PAGE.pageId });
    const del = await fetch(`${base}/v25.0/${PAGE.pageId}/subscribed_apps?${token}`, { method: 'DELETE' });
    assert.deepEqual(await del.json(), { success: true });
    assert.deepEqual(await (await fetch(`${base}/v25.0/${PAGE.pageId}/subscribed_apps?${token}`)).json(), { data: [] });
    const post = await fetch(`${base}/v25.0/${PAGE.pageId}/subscribed_apps?subscribed_fields=messages,message_echoes&${token}`, { method: 'POST' });
    assert.deepEqual(await post.json(), { success: true });
    const list = (await (await fetch(`${base}/v25.0/${PAGE.pageId}/subscribed_apps?${token}`)).json()) as { data: Array<{ id: string; subscribed_fields: string[] }> };
    assert.deepEqual(list.data[0]?.subscribed_fields, ['messages', 'message_echoes']);
  });
});
