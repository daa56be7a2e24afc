import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAdapters } from '../../../src/providers/registry.ts';
import { ProviderError, type OutboundMessage } from '../../../src/providers/types.ts';
import { DEMO } from '../../../src/sandbox/index.ts';
import { endpointsOf, facebookCredentials, useSandbox, webhookFromSay, rejection } from '../helpers.ts';

const PSID = DEMO.facebook.customerPsid;
const PAGE = DEMO.facebook.pageId;
const message = (extra: Partial<OutboundMessage> = {}): OutboundMessage => ({ to: PSID, text: 'Hello from Parley', idempotencyKey: 'k1', ...extra });

describe('Facebook adapter against the sandbox', () => {
  const ctx = useSandbox();
  const facebook = () => ctx.adapters.get('facebook');
  const customerWrites = () => ctx.sandbox.customer.say({ channel: 'facebook', to: PAGE, from: PSID, text: 'hi' });

  it('a customer message arrives signed, verifies and decodes to its mid', async () => {
    const said = await customerWrites();
    const webhook = webhookFromSay(said);
    assert.equal(facebook().verify(webhook, facebookCredentials), true);
    const [event] = facebook().decode(webhook);
    assert.equal(event?.type, 'message');
    assert.equal(event?.key, said.messageId);
    assert.equal(event?.channelRef, PAGE);
  });

  it('sends text inside the window as RESPONSE with our metadata', async () => {
    await customerWrites();
    const result = await facebook().send(message({ metadata: 'parley:42' }), facebookCredentials);
    assert.equal(result.providerMessageIds.length, 1);
    const [sent] = ctx.sandbox.facebook.messages.all();
    assert.equal(sent?.mid, result.providerMessageIds[0]);
    assert.equal(sent?.messagingType, 'RESPONSE');
    assert.equal(sent?.tag, undefined);
    assert.deepEqual(sent?.message, { text: 'Hello from Parley', metadata: 'parley:42' });
    const call = ctx.sandbox.facebook.sent.all().find((c) => c.path.endsWith('/messages'))!;
    assert.equal(call.path, `/v25.0/${PAGE}/messages`);
  });

  it('our own send comes back as an echo with our app id and metadata, then a delivery receipt', async () => {
    ctx.sandbox.facebook.settings.echoes = true;
    ctx.sandbox.facebook.settings.autoDelivery = true;
    ctx.sandbox.facebook.settings.receiptDelayMs = 1;
    await customerWrites();
    const { providerMessageIds } = await facebook().send(message({ metadata: 'parley:7' }), facebookCredentials);
    await ctx.receiver.waitFor(3);
    const events = ctx.receiver.received.flatMap((r) => {
      const webhook = { method: r.method, url: ctx.receiver.url + r.url, headers: r.headers, body: Buffer.from(r.body) };
      assert.equal(facebook().verify(webhook, facebookCredentials), true);
      return facebook().decode(webhook);
    });
    const echo = events.find((e) => e.type === 'echo');
    assert.equal(echo?.type === 'echo' && echo.appId, DEMO.facebook.appId);
    assert.equal(echo?.type === 'echo' && echo.metadata, 'parley:7');
    assert.equal(echo?.key, providerMessageIds[0]);
    const delivery = events.find((e) => e.type === 'status');
    assert.equal(delivery?.type === 'status' && delivery.status, 'delivered');
    assert.equal(delivery?.type === 'status' && delivery.customerId, PSID);
  });

  it('UPDATE and the HUMAN_AGENT tag are sent as the window requires', async () => {
    await customerWrites();
    await facebook().send(message({ facebookMode: 'UPDATE' }), facebookCredentials);
    ctx.sandbox.clock.advance(3 * 24 * 3_600_000);
    await facebook().send(message({ facebookMode: 'HUMAN_AGENT' }), facebookCredentials);
    const [update, tagged] = ctx.sandbox.facebook.messages.all();
    assert.equal(update?.messagingType, 'UPDATE');
    assert.equal(tagged?.messagingType, 'MESSAGE_TAG');
    assert.equal(tagged?.tag, 'HUMAN_AGENT');
  });

  it('text and two attachments go as three requests, text first, returning every id', async () => {
    await customerWrites();
    const result = await facebook().send(
      message({
        attachments: [
          { kind: 'image', url: 'https://files.example.com/a.png', contentType: 'image/png' },
          { kind: 'file', url: 'https://files.example.com/b.pdf', contentType: 'application/pdf' },
        ],
      }),
      facebookCredentials,
    );
    const sent = ctx.sandbox.facebook.messages.all();
    assert.deepEqual(result.providerMessageIds, sent.map((m) => m.mid));
    assert.deepEqual(sent.map((m) => Object.keys(m.message)[0]), ['text', 'attachment', 'attachment']);
    assert.deepEqual(sent[1]?.message.attachment, { type: 'image', payload: { url: 'https://files.example.com/a.png', is_reusable: false } });
    assert.equal((sent[2]?.message.attachment as { type: string }).type, 'file');
  });

  it('classifies the injected faults by their Graph codes', async () => {
    await customerWrites();
    const cases = [
      { kind: 'expired-token', errorClass: 'auth', code: '190' },
      { kind: 'invalid-token', errorClass: 'auth', code: '190' },
      { kind: 'outside-window', errorClass: 'window_closed', code: '10' },
      { kind: 'rate-limit', errorClass: 'rate_limited', code: '613' },
      { kind: 'app-rate-limit', errorClass: 'rate_limited', code: '4' },
      { kind: 'server-error', errorClass: 'transient', code: '1' },
      { kind: 'drop', errorClass: 'transient', code: 'network' },
    ] as const;
    for (const { kind, errorClass, code } of cases) {
      ctx.sandbox.facebook.injectFault({ kind, times: 1 });
      const error = await rejection(facebook().send(message(), facebookCredentials));
      assert.equal(error.errorClass, errorClass, kind);
      assert.equal(error.info.code, code, kind);
    }
    ctx.sandbox.facebook.injectFault({ kind: 'delay', times: 1, delayMs: 2500 });
    const timeout = await rejection(facebook().send(message(), facebookCredentials));
    assert.equal(timeout.errorClass, 'transient');
    assert.equal(timeout.info.code, 'timeout');
    assert.equal(timeout.retryable, true);
  });

  it('outside the 24 h window without the tag the sandbox refuses with window_closed', async () => {
    await customerWrites();
    ctx.sandbox.clock.advance(25 * 3_600_000);
    const error = await rejection(facebook().send(message(), facebookCredentials));
    assert.equal(error.errorClass, 'window_closed');
    assert.equal(error.info.subcode, '2018278');
  });

  it('handover: a thread another app controls is thread_owned_elsewhere until the adapter takes control', async () => {
    await customerWrites();
    const fb = ctx.sandbox.facebook;
    fb.setThreadOwner(PAGE, PSID, '263902037430900');
    const error = await rejection(facebook().send(message(), facebookCredentials));
    assert.equal(error.errorClass, 'thread_owned_elsewhere');
    assert.equal(error.info.subcode, '2018300');
    assert.equal(error.retryable, false);
    await facebook().takeThreadControl!(PSID, facebookCredentials);
    const call = fb.sent.all().find((c) => c.path.endsWith('/take_thread_control'))!;
    assert.equal(call.path, `/v25.0/${PAGE}/take_thread_control`);
    assert.equal(fb.threadOwner(PAGE, PSID), DEMO.facebook.appId);
    assert.equal((await facebook().send(message(), facebookCredentials)).providerMessageIds.length, 1);
    await facebook().passThreadControl!(PSID, '263902037430900', facebookCredentials);
    assert.equal(fb.threadOwner(PAGE, PSID), '263902037430900');
    fb.injectFault({ kind: 'invalid-token', times: 1 });
    assert.equal((await rejection(facebook().takeThreadControl!(PSID, facebookCredentials))).errorClass, 'auth');
  });

  it('an unknown recipient is recipient_unavailable; a template is refused before calling', async () => {
    const error = await rejection(facebook().send(message({ to: '999' }), facebookCredentials));
    assert.equal(error.errorClass, 'recipient_unavailable');
    const template = await rejection(facebook().send(message({ template: { providerTemplateId: 'x', variables: {} } }), facebookCredentials));
    assert.equal(template.errorClass, 'invalid_request');
  });

  it('downloads an attachment from its CDN URL without the token, within the size limit', async () => {
    const bytes = Buffer.from('a small picture, honestly');
    const said = await ctx.sandbox.customer.say({ channel: 'facebook', to: PAGE, from: PSID, attachment: { kind: 'image', data: bytes, contentType: 'image/png' } });
    const [event] = facebook().decode(webhookFromSay(said));
    assert.equal(event?.type, 'message');
    const ref = event.type === 'message' ? event.content.attachments[0]! : undefined;
    const media = await facebook().fetchMedia(ref!, facebookCredentials);
    assert.equal(media.status, 'ready');
    assert.deepEqual(media.status === 'ready' ? media.bytes : undefined, bytes);
    assert.equal(media.status === 'ready' ? media.contentType : undefined, 'image/png');
    const small = createAdapters(endpointsOf(ctx.sandbox), { maxMediaBytes: 8 }).get('facebook');
    const tooLarge = await rejection(small.fetchMedia(ref!, facebookCredentials));
    assert.equal(tooLarge.errorClass, 'invalid_request');
    assert.equal(tooLarge.info.code, 'too_large');
    const gone = await rejection(facebook().fetchMedia({ kind: 'image', url: `${ctx.sandbox.urls.facebookGraph}/cdn/nothing` }, facebookCredentials));
    assert.equal(gone.errorClass, 'invalid_request');
  });

  it('reads the customer profile', async () => {
    const profile = await facebook().fetchProfile(PSID, facebookCredentials);
    assert.equal(profile?.displayName, 'Dana Demo');
    assert.match(profile?.avatarUrl ?? '', /^http/);
  });

  it('checks credentials: the page name, or the refusal with its code', async () => {
    assert.deepEqual(await facebook().checkCredentials(facebookCredentials), { ok: true, name: DEMO.facebook.pageName });
    const refused = await facebook().checkCredentials({ ...facebookCredentials, pageAccessToken: 'EAA-wrong' });
    assert.equal(refused.ok, false);
    assert.equal(refused.error?.code, '190');
    assert.equal(refused.error?.errorClass, 'auth');
    const otherPage = await facebook().checkCredentials({ ...facebookCredentials, pageId: '123' });
    assert.equal(otherPage.ok, false);
    assert.equal(otherPage.error?.code, 'page_mismatch');
  });

  it('provisions by subscribing the app to the page fields, and names the dashboard step', async () => {
    const page = ctx.sandbox.facebook.pages.get(PAGE)!;
    page.subscribedFields = null;
    const result = await facebook().provision(facebookCredentials, { callbackUrl: 'https://parley.example.com/webhooks/facebook/abc' });
    assert.equal(result.status, 'running');
    assert.deepEqual(page.subscribedFields, ['messages', 'messaging_postbacks', 'message_deliveries', 'message_reads', 'message_echoes']);
    assert.match(result.manualSteps.join(' '), /https:\/\/parley\.example\.com\/webhooks\/facebook\/abc/);
    assert.match(result.manualSteps.join(' '), /Verify token/);
  });

  it('provisioning with an expired token needs attention and says why', async () => {
    ctx.sandbox.facebook.injectFault({ kind: 'expired-token', times: 1 });
    const result = await facebook().provision(facebookCredentials, { callbackUrl: 'https://parley.example.com/webhooks/facebook/abc' });
    assert.equal(result.status, 'needs_attention');
    assert.match(result.reason ?? '', /190\/463/);
    assert.match(result.manualSteps[0] ?? '', /new Page access token/);
  });
});
