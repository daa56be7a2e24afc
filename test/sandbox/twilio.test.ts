import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import twilio from 'twilio';
import { createClock, HOUR } from '../../src/sandbox/clock.ts';
import { TwilioEmulator } from '../../src/sandbox/twilio/emulator.ts';
import { startReceiver } from './receiver.ts';

const ACCOUNT = { sid: 'AC11111111111111111111111111111111', authToken: 'tw-auth-token' };
const NUMBER = 'whatsapp:+14155550199';
const CUSTOMER = 'whatsapp:+14155550100';

describe('Twilio emulator', () => {
  const clock = createClock();
  const tw = new TwilioEmulator({ clock });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let base = '';

  before(async () => {
    receiver = await startReceiver();
    base = await tw.listen();
  });
  after(async () => {
    await tw.close();
    await receiver.close();
  });
  beforeEach(() => {
    tw.reset({ keepSeeds: false });
    clock.reset();
    receiver.received.length = 0;
    receiver.respondWith(() => ({ status: 200, body: '<Response/>' }));
    tw.settings.statusDelayMs = 5;
    tw.seedAccount(ACCOUNT);
    tw.seedNumber({ accountSid: ACCOUNT.sid, number: NUMBER, inboundUrl: `${receiver.url}/webhooks/twilio?tenant=acme`, statusUrl: `${receiver.url}/status` });
  });

  const auth = (sid = ACCOUNT.sid, token = ACCOUNT.authToken) => 'Basic ' + Buffer.from(`${sid}:${token}`).toString('base64');
  const create = (params: Record<string, string | string[]>, authorization = auth()) => {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const value of [v].flat()) form.append(k, value);
    return fetch(`${base}/2010-04-01/Accounts/${ACCOUNT.sid}/Messages.json`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
  };
  const statusesFor = (sid: string) =>
    receiver.received
      .filter((r) => r.url === '/status')
      .map((r) => Object.fromEntries(new URLSearchParams(r.body)))
      .filter((p) => p.MessageSid === sid);

  it('delivers an inbound message whose signature the official SDK accepts', async () => {
    const result = await tw.receive({ to: NUMBER, from: CUSTOMER, text: 'Hola José', profileName: 'José' });
    assert.equal(result.deliveries[0]?.ok, true);
    const request = receiver.received[0]!;
    const params = Object.fromEntries(new URLSearchParams(request.body));
    const url = `${receiver.url}/webhooks/twilio?tenant=acme`;
    assert.equal(twilio.validateRequest(ACCOUNT.authToken, String(request.headers['x-twilio-signature']), url, params), true);
    assert.equal(twilio.validateRequest('other-token', String(request.headers['x-twilio-signature']), url, params), false);
    assert.equal(params.From, CUSTOMER);
    assert.equal(params.To, NUMBER);
    assert.equal(params.WaId, '14155550100');
    assert.equal(params.SmsSid, params.MessageSid);
    assert.equal(params.SmsMessageSid, params.MessageSid);
    assert.equal(params.NumMedia, '0');
    assert.equal(params.Body, 'Hola José');
    assert.match(params.MessageSid ?? '', /^SM[0-9a-f]{32}$/);
  });

  it('answers 201 with the message resource, then reports sent, delivered and read', async () => {
    await tw.receive({ to: NUMBER, from: CUSTOMER, text: 'hi' });
    const response = await create({ To: CUSTOMER, From: NUMBER, Body: 'Hello!', StatusCallback: `${receiver.url}/status` });
    assert.equal(response.status, 201);
    const message = (await response.json()) as Record<string, unknown>;
    assert.equal(message.status, 'queued');
    assert.equal(message.num_media, '0');
    assert.equal(message.num_segments, '1');
    assert.equal(message.direction, 'outbound-api');
    assert.match(String(message.date_created), /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    assert.match(String(message.sid), /^SM[0-9a-f]{32}$/);
    await receiver.waitFor(4);
    const statuses = statusesFor(String(message.sid));
    assert.deepEqual(statuses.map((s) => s.MessageStatus), ['sent', 'delivered', 'read']);
    const callback = receiver.received.find((r) => r.url === '/status')!;
    assert.equal(
      twilio.validateRequest(ACCOUNT.authToken, String(callback.headers['x-twilio-signature']), `${receiver.url}/status`, Object.fromEntries(new URLSearchParams(callback.body))),
      true,
    );
  });

  it('accepts a free-form message 25 h after the customer wrote and ends it undelivered with 63016', async () => {
    await tw.receive({ to: NUMBER, from: CUSTOMER, text: 'hi' });
    clock.advance(25 * HOUR);
    const response = await create({ To: CUSTOMER, From: NUMBER, Body: 'late reply' });
    assert.equal(response.status, 201);
    const { sid } = (await response.json()) as { sid: string };
    await receiver.waitFor(2);
    const [status] = statusesFor(sid);
    assert.equal(status?.MessageStatus, 'undelivered');
    assert.equal(status?.ErrorCode, '63016');
    assert.equal(tw.messages.last()?.resource.error_code, 63016);
  });

  it('allows a Content template outside the window and renders its variables', async () => {
    const template = tw.seedTemplate({ body: 'Hi {{1}}, your case {{2}} has an update.' });
    const response = await create({ To: CUSTOMER, From: NUMBER, ContentSid: template.sid, ContentVariables: JSON.stringify({ 1: 'Jane', 2: '#42' }) });
    assert.equal(response.status, 201);
    const message = (await response.json()) as { sid: string; body: string };
    assert.equal(message.body, 'Hi Jane, your case #42 has an update.');
    await receiver.waitFor(2);
    assert.equal(statusesFor(message.sid)[0]?.MessageStatus, 'sent');
  });

  it('returns Twilio error bodies and codes', async () => {
    const check = async (response: Response, status: number, code: number) => {
      assert.equal(response.status, status);
      const body = (await response.json()) as Record<string, unknown>;
      assert.equal(body.code, code);
      assert.equal(body.status, status);
      assert.equal(body.more_info, `https://www.twilio.com/docs/errors/${code}`);
      assert.equal(typeof body.message, 'string');
    };
    await check(await create({ To: CUSTOMER, From: NUMBER, Body: 'x' }, auth(ACCOUNT.sid, 'wrong')), 401, 20003);
    await check(await create({ To: 'whatsapp:+1', From: NUMBER, Body: 'x' }), 400, 21211);
    await check(await create({ To: CUSTOMER, From: 'whatsapp:+15550001111', Body: 'x' }), 400, 63007);
    await check(await create({ To: CUSTOMER, From: NUMBER }), 400, 21602);
    await check(await create({ To: CUSTOMER, From: NUMBER, Body: 'x'.repeat(1601) }), 400, 21617);
    await check(await create({ From: NUMBER, Body: 'x' }), 400, 21604);
    await check(await create({ To: CUSTOMER, From: NUMBER, ContentSid: 'HX00000000000000000000000000000000' }), 400, 21655);
    tw.injectFault({ kind: 'rate-limit', times: 1 });
    await check(await create({ To: CUSTOMER, From: NUMBER, Body: 'x' }), 429, 20429);
    tw.injectFault({ kind: 'invalid-token', times: 1, match: { token: ACCOUNT.sid } });
    await check(await create({ To: CUSTOMER, From: NUMBER, Body: 'x' }), 401, 20003);
    tw.injectFault({ kind: 'server-error', times: 1 });
    assert.equal((await create({ To: CUSTOMER, From: NUMBER, Body: 'x' })).status, 500);
    assert.equal((await create({ To: CUSTOMER, From: NUMBER, Body: 'x' })).status, 201);
  });

  it('serves inbound media behind Basic auth with a redirect to the file', async () => {
    const bytes = Buffer.from('fake-jpeg-bytes');
    const result = await tw.receive({ to: NUMBER, from: CUSTOMER, attachment: { kind: 'image', bytes, contentType: 'image/jpeg' } });
    assert.equal(result.params.NumMedia, '1');
    assert.equal(result.params.MediaContentType0, 'image/jpeg');
    assert.equal(result.params.MessageType, 'image');
    assert.match(result.params.MessageSid ?? '', /^MM/);
    const url = result.params.MediaUrl0!;
    assert.match(url, /\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/Messages\/MM[0-9a-f]{32}\/Media\/ME[0-9a-f]{32}$/);
    assert.equal((await fetch(url)).status, 401);
    const redirect = await fetch(url, { headers: { authorization: auth() }, redirect: 'manual' });
    assert.equal(redirect.status, 307);
    const file = await fetch(url, { headers: { authorization: auth() } });
    assert.equal(file.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), bytes);
  });

  it('checks credentials on the account resource', async () => {
    const ok = await fetch(`${base}/2010-04-01/Accounts/${ACCOUNT.sid}.json`, { headers: { authorization: auth() } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { sid: string }).sid, ACCOUNT.sid);
    const bad = await fetch(`${base}/2010-04-01/Accounts/${ACCOUNT.sid}.json`, { headers: { authorization: auth(ACCOUNT.sid, 'x') } });
    assert.equal(bad.status, 401);
  });

  it('drops the connection and delays when told to', async () => {
    await tw.receive({ to: NUMBER, from: CUSTOMER, text: 'hi' });
    tw.injectFault({ kind: 'drop', times: 1 });
    await assert.rejects(create({ To: CUSTOMER, From: NUMBER, Body: 'x' }));
    tw.injectFault({ kind: 'delay', delayMs: 150, times: 1 });
    const started = Date.now();
    assert.equal((await create({ To: CUSTOMER, From: NUMBER, Body: 'x' })).status, 201);
    assert.ok(Date.now() - started >= 140);
  });
});
