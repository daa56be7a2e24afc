import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import twilio from 'twilio';
import { classifyTwilioError, createTwilioWhatsAppAdapter } from '../../../src/providers/twilio-whatsapp/index.ts';
import { urlSpellings } from '../../../src/providers/twilio-whatsapp/signature.ts';
import type { InboundEvent, RawWebhook } from '../../../src/providers/types.ts';
import { loadFixtures, twilioCredentials, webhookOf, type Fixture } from '../helpers.ts';

const adapter = createTwilioWhatsAppAdapter({ facebookGraph: '', facebookGraphVersion: 'v25.0', twilioApi: 'http://twilio.invalid', lineApi: '', lineData: '' });
const TOKEN = { ...twilioCredentials, authToken: 'tw-test-auth-token' };

function formWebhook(url: string, params: Array<[string, string]>, signature: string): RawWebhook {
  return { method: 'POST', url, headers: { 'x-twilio-signature': signature }, body: Buffer.from(new URLSearchParams(params).toString()) };
}

// Reference §4.2 (a)
const VECTOR_A: Array<[string, string]> = [
  ['AccountSid', 'AC00000000000000000000000000000001'],
  ['ApiVersion', '2010-04-01'],
  ['Body', 'Hello from WhatsApp'],
  ['From', 'whatsapp:+14155550100'],
  ['MessageSid', 'SM00000000000000000000000000000001'],
  ['MessageType', 'text'],
  ['NumMedia', '0'],
  ['NumSegments', '1'],
  ['ProfileName', 'Jane Doe'],
  ['SmsMessageSid', 'SM00000000000000000000000000000001'],
  ['SmsSid', 'SM00000000000000000000000000000001'],
  ['SmsStatus', 'received'],
  ['To', 'whatsapp:+14155550199'],
  ['WaId', '14155550100'],
];

function only(events: InboundEvent[]): InboundEvent {
  assert.equal(events.length, 1, JSON.stringify(events));
  return events[0]!;
}

describe('Twilio webhook signature', () => {
  let fixtures: Map<string, Fixture>;
  before(async () => {
    fixtures = await loadFixtures('twilio');
  });

  it('accepts the reference vectors, with or without the default port, in any parameter order', () => {
    const url = 'https://example.com/webhooks/twilio/whatsapp?tenant=acme';
    const withPort = 'https://example.com:443/webhooks/twilio/whatsapp?tenant=acme';
    for (const signature of ['55ENk8WxyATeP/MhGRmTqNp/9cE=', 'ZvpB0BtNbAlnLzPvfsLWJvUNReM=']) {
      assert.equal(adapter.verify(formWebhook(url, VECTOR_A, signature), TOKEN), true, signature);
      assert.equal(adapter.verify(formWebhook(withPort, [...VECTOR_A].reverse(), signature), TOKEN), true, signature);
    }
    const changed = VECTOR_A.map(([k, v]): [string, string] => [k, k === 'Body' ? 'Hello from WhatsApp!' : v]);
    assert.equal(adapter.verify(formWebhook(url, changed, '55ENk8WxyATeP/MhGRmTqNp/9cE='), TOKEN), false);
  });

  it('accepts the media and status vectors (UTF-8 values) and Twilio\'s published ones with repeated parameters', () => {
    const media: Array<[string, string]> = [
      ['AccountSid', 'AC00000000000000000000000000000001'], ['Body', ''], ['From', 'whatsapp:+14155550100'], ['MediaContentType0', 'image/jpeg'],
      ['MediaUrl0', 'https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages/MM00000000000000000000000000000003/Media/ME00000000000000000000000000000003'],
      ['MessageSid', 'MM00000000000000000000000000000003'], ['MessageType', 'image'], ['MessagingServiceSid', 'MG00000000000000000000000000000001'],
      ['NumMedia', '1'], ['ProfileName', 'José'], ['To', 'whatsapp:+14155550199'], ['WaId', '14155550100'],
    ];
    assert.equal(adapter.verify(formWebhook('https://example.com/webhooks/twilio/whatsapp', media, 'OeAgIVRQNj9Y5u+YWN8vxP82R+g='), TOKEN), true);
    const status: Array<[string, string]> = [
      ['AccountSid', 'AC00000000000000000000000000000001'], ['ApiVersion', '2010-04-01'], ['ChannelPrefix', 'whatsapp'], ['ErrorCode', '63016'],
      ['From', 'whatsapp:+14155550199'], ['MessageSid', 'SM00000000000000000000000000000002'], ['MessageStatus', 'undelivered'],
      ['SmsSid', 'SM00000000000000000000000000000002'], ['SmsStatus', 'undelivered'], ['To', 'whatsapp:+14155550100'],
    ];
    assert.equal(adapter.verify(formWebhook('https://example.com/webhooks/twilio/status', status, 'ws42ihSW4Krh7pCxxn42T+PbP1E='), TOKEN), true);
    const published = { ...TOKEN, authToken: '12345' };
    const call: Array<[string, string]> = [['CallSid', 'CA1234567890ABCDE'], ['Caller', '+14158675309'], ['Digits', '1234'], ['From', '+14158675309'], ['To', '+18005551212']];
    assert.equal(adapter.verify(formWebhook('https://mycompany.com/myapp.php?foo=1&bar=2', call, 'RSOYDt4T1cUTdK1PDd93/VVr8B8='), published), true);
    assert.equal(adapter.verify(formWebhook('https://mycompany.com:443/myapp.php?foo=1&bar=2', call, 'RSOYDt4T1cUTdK1PDd93/VVr8B8='), published), true);
    const repeated: Array<[string, string]> = [['Sid', 'CA123'], ['SidAccount', 'AC123'], ['Digits', '5678'], ['Digits', '1234'], ['Digits', '1234']];
    assert.equal(adapter.verify(formWebhook('https://mycompany.com/myapp.php?foo=1&bar=2', repeated, 'IK+Dwps556ElfBT0I3Rgjkr1wJU='), published), true);
  });

  it('JSON webhooks: the URL with bodySHA256 is signed and the body must match the hash', () => {
    const url = 'https://example.com/webhooks/twilio/json?bodySHA256=93a23971a914e5eacbf0a8d25154cda309c3c1c72fbb9914d47c60f3cb681588';
    const webhook = (body: string): RawWebhook => ({ method: 'POST', url, headers: { 'X-Twilio-Signature': '7CIXQ8eR6R2XZOAHQErkx+sz6Wo=' }, body: Buffer.from(body) });
    assert.equal(adapter.verify(webhook('{"hello":"world"}'), TOKEN), true);
    assert.equal(adapter.verify(webhook('{"hello":"there"}'), TOKEN), false);
  });

  it('agrees with the Twilio SDK on every fixture, and refuses tampering, wrong tokens and missing headers', () => {
    for (const fixture of fixtures.values()) {
      const credentials = { ...twilioCredentials, authToken: fixture.secret };
      const sdk = twilio.validateRequest(fixture.secret, fixture.headers['x-twilio-signature']!, fixture.url!, fixture.payload as Record<string, string>);
      assert.equal(adapter.verify(webhookOf(fixture), credentials), sdk, fixture.file);
      assert.equal(adapter.verify(webhookOf(fixture), credentials), true, fixture.file);
      assert.equal(adapter.verify(webhookOf({ ...fixture, rawBody: fixture.rawBody + '&Extra=1' }), credentials), false, fixture.file);
      assert.equal(adapter.verify(webhookOf({ ...fixture, url: fixture.url + '/other' }), credentials), false, fixture.file);
      assert.equal(adapter.verify(webhookOf(fixture), { ...credentials, authToken: 'wrong' }), false, fixture.file);
      assert.equal(adapter.verify(webhookOf({ ...fixture, headers: {} }), credentials), false, fixture.file);
    }
    const fixture = fixtures.get('inbound-text')!;
    for (const garbage of ['', '!!!', 'abc', 'a'.repeat(28)]) {
      assert.equal(adapter.verify(webhookOf({ ...fixture, headers: { 'x-twilio-signature': garbage } }), twilioCredentials), false, garbage);
    }
    assert.equal(adapter.verify(webhookOf({ ...fixture, url: 'not a url' }), twilioCredentials), false);
  });

  it('spells URLs with and without the default port, leaving the rest untouched', () => {
    assert.deepEqual(urlSpellings('https://a.example/x?y=%2F'), ['https://a.example/x?y=%2F', 'https://a.example:443/x?y=%2F']);
    assert.deepEqual(urlSpellings('http://a.example:80/x'), ['http://a.example:80/x', 'http://a.example/x']);
    assert.deepEqual(urlSpellings('http://127.0.0.1:8080/x'), ['http://127.0.0.1:8080/x']);
  });
});

describe('Twilio webhook decoding', () => {
  let fixtures: Map<string, Fixture>;
  before(async () => {
    fixtures = await loadFixtures('twilio');
  });
  const decode = (name: string) => only(adapter.decode(webhookOf(fixtures.get(name)!)));

  it('a text message: MessageSid as key, our number as channel, the customer number and WhatsApp name', () => {
    const event = decode('inbound-text');
    assert.equal(event.type, 'message');
    if (event.type !== 'message') return;
    assert.equal(event.key, 'SM39bb92600df7b1c92975d181b677de75');
    assert.equal(event.providerMessageId, event.key);
    assert.equal(event.channelRef, '+14155550199');
    assert.equal(event.customerId, '+14155550100');
    assert.equal(event.customerName, 'José Demo');
    assert.equal(event.content.text, 'Hola, ¿me ayudan?');
  });

  it('every media kind, location, button and reply', () => {
    const kinds = { 'inbound-image': 'image', 'inbound-video': 'video', 'inbound-audio': 'audio', 'inbound-file': 'file', 'inbound-sticker': 'sticker' } as const;
    for (const [name, kind] of Object.entries(kinds)) {
      const event = decode(name);
      assert.equal(event.type, 'message', name);
      if (event.type !== 'message') continue;
      assert.equal(event.content.attachments.length, 1, name);
      assert.equal(event.content.attachments[0]!.kind, kind, name);
      assert.match(event.content.attachments[0]!.url!, /\/Media\/ME/);
      assert.ok(event.content.attachments[0]!.contentType, name);
    }
    const location = decode('inbound-location');
    assert.deepEqual(location.type === 'message' && location.content.location, { latitude: 37.7749, longitude: -122.4194, title: 'Office', address: '1 Market St' });
    const button = decode('inbound-button');
    assert.deepEqual(button.type === 'message' && button.content.payload, { type: 'button', value: 'CONFIRM_YES', title: 'Yes' });
    const reply = decode('inbound-reply');
    assert.equal(reply.type === 'message' && reply.content.replyTo, 'SM00000000000000000000000000000009');
  });

  it('status callbacks: keyed by sid and status; undelivered with 63016 is a failure with its code', () => {
    const sent = decode('status-sent');
    assert.equal(sent.type, 'status');
    if (sent.type !== 'status') return;
    assert.equal(sent.status, 'sent');
    assert.equal(sent.key, 'status:SM42982476bccb25d75f7d3090dde964d3:sent');
    assert.equal(sent.channelRef, '+14155550199');
    assert.equal(sent.customerId, '+14155550100');
    assert.equal(sent.providerMessageId, 'SM42982476bccb25d75f7d3090dde964d3');
    assert.equal(decode('status-delivered').type === 'status' && (decode('status-delivered') as { status: string }).status, 'delivered');
    assert.equal((decode('status-read') as { status: string }).status, 'read');
    const failed = decode('status-undelivered-63016');
    assert.equal(failed.type, 'status');
    if (failed.type !== 'status') return;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, '63016');
    assert.equal(classifyTwilioError(Number(failed.error?.code), undefined), 'window_closed');
  });

  it('intermediate statuses, empty messages and bodies that are not forms are unsupported', () => {
    const queued = only(adapter.decode(formWebhook('https://x/s', [['MessageSid', 'SM1'], ['MessageStatus', 'queued'], ['From', 'whatsapp:+1'], ['To', 'whatsapp:+2']], '')));
    assert.equal(queued.type, 'unsupported');
    assert.equal(queued.key, 'status:SM1:queued');
    const reaction = only(adapter.decode(formWebhook('https://x/i', [['MessageSid', 'SM2'], ['MessageType', 'reaction'], ['Body', ''], ['From', 'whatsapp:+1'], ['To', 'whatsapp:+2']], '')));
    assert.equal(reaction.type, 'unsupported');
    for (const body of ['', '{"MessageSid":"SM1"}', 'garbage', 'a=1&b=2', '<xml/>']) {
      const event = only(adapter.decode({ method: 'POST', url: 'https://x/i', headers: {}, body: Buffer.from(body) }));
      assert.equal(event.type, 'unsupported', body);
      assert.ok(event.type === 'unsupported' && event.reason, body);
    }
  });

  it('a GET webhook reads its parameters from the query', () => {
    const url = 'https://x/i?' + new URLSearchParams([['MessageSid', 'SM3'], ['Body', 'hi'], ['From', 'whatsapp:+1555'], ['To', 'whatsapp:+1666']]).toString();
    const event = only(adapter.decode({ method: 'GET', url, headers: {}, body: Buffer.alloc(0) }));
    assert.equal(event.type === 'message' && event.content.text, 'hi');
  });

  it('acknowledges with empty TwiML', () => {
    assert.deepEqual(adapter.ack(), { status: 200, contentType: 'text/xml', body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>' });
  });
});
