import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createAdapters } from '../../../src/providers/registry.ts';
import { ProviderError, type OutboundMessage, type RawWebhook, type StatusEvent } from '../../../src/providers/types.ts';
import { DEMO } from '../../../src/sandbox/index.ts';
import { endpointsOf, twilioCredentials, useSandbox, webhookFromSay, rejection } from '../helpers.ts';

const CUSTOMER = DEMO.twilio.customerNumber.replace(/^whatsapp:/, '');
const message = (extra: Partial<OutboundMessage> = {}): OutboundMessage => ({ to: CUSTOMER, text: 'Hello from Parley', idempotencyKey: 'k1', ...extra });

describe('Twilio WhatsApp adapter against the sandbox', () => {
  const ctx = useSandbox();
  const adapter = () => ctx.adapters.get('twilio-whatsapp');
  const customerWrites = () => ctx.sandbox.customer.say({ channel: 'whatsapp', to: DEMO.twilio.whatsappNumber, from: DEMO.twilio.customerNumber, text: 'hola', profileName: 'Ana' });
  /** Status callbacks that reached our receiver, verified and decoded. */
  const statusEvents = (): StatusEvent[] =>
    ctx.receiver.received
      .filter((r) => r.url.startsWith('/webhooks/twilio/status'))
      .map((r): RawWebhook => ({ method: r.method, url: ctx.receiver.url + r.url, headers: r.headers, body: Buffer.from(r.body) }))
      .filter((w) => adapter().verify(w, twilioCredentials))
      .flatMap((w) => adapter().decode(w))
      .filter((e): e is StatusEvent => e.type === 'status');
  const waitForStatus = async (status: StatusEvent['status']): Promise<StatusEvent> => {
    for (let i = 0; i < 100; i++) {
      const found = statusEvents().find((e) => e.status === status);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail(`no ${status} status callback arrived`);
  };

  it('an inbound message arrives signed for its exact URL, verifies and decodes', async () => {
    const said = await customerWrites();
    const webhook = webhookFromSay(said);
    assert.equal(adapter().verify(webhook, twilioCredentials), true);
    const [event] = adapter().decode(webhook);
    assert.equal(event?.type, 'message');
    assert.equal(event?.key, said.messageId);
    assert.equal(event?.type === 'message' && event.customerName, 'Ana');
    assert.equal(event?.channelRef, twilioCredentials.number);
  });

  it('sends text with whatsapp: addresses and our status callback; the callbacks decode', async () => {
    await customerWrites();
    const statusCallbackUrl = ctx.hooks.twilioStatusUrl + '?m=1';
    const result = await adapter().send(message({ statusCallbackUrl }), twilioCredentials);
    const [sent] = ctx.sandbox.twilio.messages.all();
    assert.deepEqual(result.providerMessageIds, [sent?.sid]);
    assert.deepEqual(sent?.params, { From: 'whatsapp:+14155550199', To: 'whatsapp:+14155550100', StatusCallback: statusCallbackUrl, Body: 'Hello from Parley' });
    const delivered = await waitForStatus('delivered');
    assert.equal(delivered.providerMessageId, sent?.sid);
    assert.equal(delivered.key, `status:${sent?.sid}:delivered`);
  });

  it('free text outside the window is accepted, then fails asynchronously with 63016', async () => {
    await adapter().send(message({ statusCallbackUrl: ctx.hooks.twilioStatusUrl }), twilioCredentials);
    const failed = await waitForStatus('failed');
    assert.equal(failed.error?.code, '63016');
  });

  it('a template goes as ContentSid with ContentVariables as JSON, and is delivered outside the window', async () => {
    await adapter().send(
      message({ text: undefined, template: { providerTemplateId: DEMO.twilio.templateSid, variables: { 1: 'Ana', 2: '#77' } }, statusCallbackUrl: ctx.hooks.twilioStatusUrl }),
      twilioCredentials,
    );
    const [sent] = ctx.sandbox.twilio.messages.all();
    assert.equal(sent?.params.ContentSid, DEMO.twilio.templateSid);
    assert.deepEqual(JSON.parse(String(sent?.params.ContentVariables)), { 1: 'Ana', 2: '#77' });
    assert.equal(sent?.params.Body, undefined);
    assert.equal(sent?.resource.body, 'Hello Ana, we have an update on your request #77.');
    await waitForStatus('delivered');
  });

  it('one WhatsApp message per media item, the text as the first caption', async () => {
    await customerWrites();
    const result = await adapter().send(
      message({
        attachments: [
          { kind: 'image', url: 'https://files.example.com/a.png', contentType: 'image/png' },
          { kind: 'file', url: 'https://files.example.com/b.pdf', contentType: 'application/pdf' },
        ],
      }),
      twilioCredentials,
    );
    const sent = ctx.sandbox.twilio.messages.all();
    assert.deepEqual(result.providerMessageIds, sent.map((m) => m.sid));
    assert.deepEqual(sent.map((m) => m.mediaUrls), [['https://files.example.com/a.png'], ['https://files.example.com/b.pdf']]);
    assert.deepEqual(sent.map((m) => m.params.Body), ['Hello from Parley', undefined]);
  });

  it('classifies refusals by Twilio code', async () => {
    const cases = [
      { kind: 'expired-token', errorClass: 'auth', code: '20003' },
      { kind: 'rate-limit', errorClass: 'rate_limited', code: '20429' },
      { kind: 'server-error', errorClass: 'transient', code: '20500' },
      { kind: 'drop', errorClass: 'transient', code: 'network' },
    ] as const;
    for (const { kind, errorClass, code } of cases) {
      ctx.sandbox.twilio.injectFault({ kind, times: 1 });
      const error = await rejection(adapter().send(message(), twilioCredentials));
      assert.equal(error.errorClass, errorClass, kind);
      assert.equal(error.info.code, code, kind);
    }
    const invalidTo = await rejection(adapter().send(message({ to: '+1' }), twilioCredentials));
    assert.equal(invalidTo.info.code, '21211');
    assert.equal(invalidTo.errorClass, 'recipient_unavailable');
    const unknownFrom = await rejection(adapter().send(message(), { ...twilioCredentials, number: '+15550001111' }));
    assert.equal(unknownFrom.info.code, '63007');
    assert.equal(unknownFrom.errorClass, 'invalid_request');
  });

  it('downloads media with Basic auth through Twilio\'s redirect, within the size limit', async () => {
    const bytes = Buffer.from('%PDF-1.4 a tiny document');
    const said = await ctx.sandbox.customer.say({ channel: 'whatsapp', to: DEMO.twilio.whatsappNumber, from: DEMO.twilio.customerNumber, attachment: { kind: 'file', data: bytes, contentType: 'application/pdf' } });
    const [event] = adapter().decode(webhookFromSay(said));
    const ref = event?.type === 'message' ? event.content.attachments[0] : undefined;
    assert.ok(ref);
    const media = await adapter().fetchMedia(ref, twilioCredentials);
    assert.equal(media.status, 'ready');
    assert.deepEqual(media.status === 'ready' && media.bytes, bytes);
    assert.equal(media.status === 'ready' && media.contentType, 'application/pdf');
    const refused = await rejection(adapter().fetchMedia(ref, { ...twilioCredentials, authToken: 'wrong' }));
    assert.equal(refused.errorClass, 'auth');
    const small = createAdapters(endpointsOf(ctx.sandbox), { maxMediaBytes: 4 }).get('twilio-whatsapp');
    assert.equal((await rejection(small.fetchMedia(ref, twilioCredentials))).info.code, 'too_large');
  });

  it('does not carry the credentials to another host when the media URL redirects there', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const cdn = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'image/png' }).end('png');
    });
    await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
    const cdnPort = (cdn.address() as AddressInfo).port;
    const origin = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(307, { location: `http://localhost:${cdnPort}/file.png` }).end();
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/Media/ME1`;
      const media = await adapter().fetchMedia({ kind: 'image', url }, twilioCredentials);
      assert.equal(media.status === 'ready' && media.bytes.toString(), 'png');
      assert.match(String(seen[0]?.authorization), /^Basic /);
      assert.equal(seen[1]?.authorization, undefined);
    } finally {
      origin.close();
      cdn.close();
    }
  });

  it('has no profile API: the name comes with each message', async () => {
    assert.equal(await adapter().fetchProfile(CUSTOMER, twilioCredentials), null);
  });

  it('checks credentials and provisions with the manual console steps', async () => {
    assert.deepEqual(await adapter().checkCredentials(twilioCredentials), { ok: true, name: 'Parley Demo' });
    const refused = await adapter().checkCredentials({ ...twilioCredentials, authToken: 'nope' });
    assert.equal(refused.ok, false);
    assert.equal(refused.error?.code, '20003');
    assert.equal(refused.error?.errorClass, 'auth');
    const webhook = { callbackUrl: 'https://parley.example.com/webhooks/twilio/1', statusCallbackUrl: 'https://parley.example.com/webhooks/twilio/1/status' };
    const running = await adapter().provision(twilioCredentials, webhook);
    assert.equal(running.status, 'running');
    assert.match(running.manualSteps[0] ?? '', /paste https:\/\/parley\.example\.com\/webhooks\/twilio\/1 as the "When a message comes in" URL/);
    assert.match(running.manualSteps[0] ?? '', /\+14155550199/);
    assert.match(running.manualSteps[1] ?? '', /\/status as the status callback URL/);
    const attention = await adapter().provision({ ...twilioCredentials, authToken: 'nope' }, webhook);
    assert.equal(attention.status, 'needs_attention');
    assert.match(attention.reason ?? '', /20003/);
  });
});
