import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateSignature } from '@line/bot-sdk';
import twilio from 'twilio';
import { metaJson } from '../../src/sandbox/meta-json.ts';
import { lineSignature, metaSignatureHeaders, sha256Hex, twilioSignature } from '../../src/sandbox/signing.ts';

// Vectors from provider-apis.md §4: each body is the exact text, UTF-8, no trailing newline.
const META_BODY =
  '{"object":"page","entry":[{"id":"111111111111111","time":1700000000000,"messaging":[{"sender":{"id":"2222222222222222"},"recipient":{"id":"111111111111111"},"timestamp":1700000000000,"message":{"mid":"m_test_mid_1","text":"Caf\\u00e9 ok? https:\\/\\/example.com"}}]}]}';

describe('Meta signatures', () => {
  it('match the reference vector over the escaped bytes', () => {
    assert.equal(Buffer.byteLength(META_BODY), 265);
    const headers = metaSignatureHeaders(META_BODY, 'fb-test-app-secret');
    assert.equal(headers['x-hub-signature-256'], 'sha256=e189a7e7a724ecc875562c2a76367a97d044ae6c16ebb94f20d6d9332ab09304');
    assert.equal(headers['x-hub-signature'], 'sha1=515c40b102c1fa5e0256097b9b3165f52aad631a');
  });
  it('differ when the body is re-serialized, as the reference warns', () => {
    const reserialized = JSON.stringify(JSON.parse(META_BODY));
    assert.equal(metaSignatureHeaders(reserialized, 'fb-test-app-secret')['x-hub-signature-256'], 'sha256=7b2c8f2d2e2822b39797157d8a3e7eee18a5e743c492347364e8eac46050a2ce');
  });
  it('sign the minimal body', () => {
    assert.equal(metaSignatureHeaders('{"object":"page","entry":[]}', 'fb-test-app-secret')['x-hub-signature-256'], 'sha256=f26d35998df90dbd32beffec6ad1ae9aaed27653bd5e4d008b07cb4f38b6d77d');
  });
  it('the emulator serializer produces exactly the bytes Meta sends', () => {
    assert.equal(metaJson(JSON.parse(META_BODY)), META_BODY);
    assert.equal(metaJson({ t: 'äöå 🙂' }), '{"t":"\\u00e4\\u00f6\\u00e5 \\ud83d\\ude42"}');
  });
});

describe('Twilio signatures', () => {
  const token = 'tw-test-auth-token';
  const cases: Array<{ name: string; token: string; url: string; params: Record<string, string>; expected: string }> = [
    {
      name: '(a) inbound text',
      token,
      url: 'https://example.com/webhooks/twilio/whatsapp?tenant=acme',
      params: {
        AccountSid: 'AC00000000000000000000000000000001',
        ApiVersion: '2010-04-01',
        Body: 'Hello from WhatsApp',
        From: 'whatsapp:+14155550100',
        MessageSid: 'SM00000000000000000000000000000001',
        MessageType: 'text',
        NumMedia: '0',
        NumSegments: '1',
        ProfileName: 'Jane Doe',
        SmsMessageSid: 'SM00000000000000000000000000000001',
        SmsSid: 'SM00000000000000000000000000000001',
        SmsStatus: 'received',
        To: 'whatsapp:+14155550199',
        WaId: '14155550100',
      },
      expected: '55ENk8WxyATeP/MhGRmTqNp/9cE=',
    },
    {
      name: '(b) media',
      token,
      url: 'https://example.com/webhooks/twilio/whatsapp',
      params: {
        AccountSid: 'AC00000000000000000000000000000001',
        Body: '',
        From: 'whatsapp:+14155550100',
        MediaContentType0: 'image/jpeg',
        MediaUrl0: 'https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages/MM00000000000000000000000000000003/Media/ME00000000000000000000000000000003',
        MessageSid: 'MM00000000000000000000000000000003',
        MessageType: 'image',
        MessagingServiceSid: 'MG00000000000000000000000000000001',
        NumMedia: '1',
        ProfileName: 'José',
        To: 'whatsapp:+14155550199',
        WaId: '14155550100',
      },
      expected: 'OeAgIVRQNj9Y5u+YWN8vxP82R+g=',
    },
    {
      name: '(c) status callback',
      token,
      url: 'https://example.com/webhooks/twilio/status',
      params: {
        AccountSid: 'AC00000000000000000000000000000001',
        ApiVersion: '2010-04-01',
        ChannelPrefix: 'whatsapp',
        ErrorCode: '63016',
        From: 'whatsapp:+14155550199',
        MessageSid: 'SM00000000000000000000000000000002',
        MessageStatus: 'undelivered',
        SmsSid: 'SM00000000000000000000000000000002',
        SmsStatus: 'undelivered',
        To: 'whatsapp:+14155550100',
      },
      expected: 'ws42ihSW4Krh7pCxxn42T+PbP1E=',
    },
    {
      name: "(e) Twilio's published vector",
      token: '12345',
      url: 'https://mycompany.com/myapp.php?foo=1&bar=2',
      params: { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' },
      expected: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
    },
  ];
  for (const c of cases) {
    it(`${c.name} matches the reference and the official SDK`, () => {
      // Parameter order must not matter: reverse it before signing.
      const signature = twilioSignature(c.token, c.url, Object.entries(c.params).reverse());
      assert.equal(signature, c.expected);
      assert.equal(twilio.getExpectedTwilioSignature(c.token, c.url, c.params), signature);
      assert.equal(twilio.validateRequest(c.token, signature, c.url, c.params), true);
    });
  }
  it('(a) with :443 in the URL signs differently and the SDK accepts both spellings', () => {
    const a = cases[0]!;
    const withPort = 'https://example.com:443/webhooks/twilio/whatsapp?tenant=acme';
    assert.equal(twilioSignature(token, withPort, Object.entries(a.params)), 'ZvpB0BtNbAlnLzPvfsLWJvUNReM=');
    assert.equal(twilio.validateRequest(token, 'ZvpB0BtNbAlnLzPvfsLWJvUNReM=', a.url, a.params), true);
    assert.equal(twilio.validateRequest(token, a.expected, a.url, { ...a.params, Body: 'Hello from WhatsApp!' }), false);
  });
  it('repeated parameters contribute each value in sorted order', () => {
    const params: Array<[string, string]> = [['Sid', 'CA123'], ['SidAccount', 'AC123'], ['Digits', '5678'], ['Digits', '1234'], ['Digits', '1234']];
    assert.equal(twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', params), 'IK+Dwps556ElfBT0I3Rgjkr1wJU=');
  });
  it('(d) JSON body: bodySHA256 in the URL, URL-only signature', () => {
    const hash = sha256Hex('{"hello":"world"}');
    assert.equal(hash, '93a23971a914e5eacbf0a8d25154cda309c3c1c72fbb9914d47c60f3cb681588');
    const url = `https://example.com/webhooks/twilio/json?bodySHA256=${hash}`;
    const signature = twilioSignature(token, url, []);
    assert.equal(signature, '7CIXQ8eR6R2XZOAHQErkx+sz6Wo=');
    assert.equal(twilio.validateRequestWithBody(token, signature, url, '{"hello":"world"}'), true);
  });
});

describe('LINE signatures', () => {
  const secret = 'line-test-channel-secret';
  const body =
    '{"destination":"U00000000000000000000000000000001","events":[{"type":"message","message":{"type":"text","id":"500000000000000001","quoteToken":"q-test-1","text":"こんにちは hello"},"webhookEventId":"01HZZZZZZZZZZZZZZZZZZZZZZZ","deliveryContext":{"isRedelivery":false},"timestamp":1700000000000,"source":{"type":"user","userId":"U00000000000000000000000000000002"},"replyToken":"0f0e0d0c0b0a09080706050403020100","mode":"active"}]}';
  it('(a) message event matches the reference and the SDK', () => {
    assert.equal(Buffer.byteLength(body), 435);
    const signature = lineSignature(body, secret);
    assert.equal(signature, 'hRWAYACR6s7PSgaP+5uy278KzzMoj8/f0hKiQKwKJN4=');
    assert.equal(validateSignature(body, secret, signature), true);
    assert.equal(validateSignature(Buffer.from(body), secret, signature), true);
    assert.equal(validateSignature(body.replace('hello', 'hellp'), secret, signature), false);
  });
  it('(b) empty probe and (c) LINE documentation vector', () => {
    const probe = '{"destination":"U00000000000000000000000000000001","events":[]}';
    assert.equal(lineSignature(probe, secret), '0kSgj55WS63CJRT50f16oSL5cClxloP4GTmVfgNFeSM=');
    const official = '{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}';
    const signature = lineSignature(official, '8c570fa6dd201bb328f1c1eac23a96d8');
    assert.equal(signature, 'GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs=');
    assert.equal(validateSignature(official, '8c570fa6dd201bb328f1c1eac23a96d8', signature), true);
  });
});
