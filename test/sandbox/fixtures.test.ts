import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateSignature } from '@line/bot-sdk';
import twilio from 'twilio';
import { metaSignatureHeaders } from '../../src/sandbox/signing.ts';
import { loadFixtures, type Fixture } from '../helpers/fixtures.ts';

async function load(provider: 'facebook' | 'twilio' | 'line'): Promise<Fixture[]> {
  return [...(await loadFixtures(provider)).values()];
}

describe('provider fixtures are genuine signed payloads', () => {
  it('facebook: both signature headers match the raw body', async () => {
    const fixtures = await load('facebook');
    assert.ok(fixtures.length >= 10);
    for (const f of fixtures) {
      const expected = metaSignatureHeaders(f.rawBody, f.secret);
      assert.equal(f.headers['x-hub-signature-256'], expected['x-hub-signature-256'], f.event);
      assert.equal(f.headers['x-hub-signature'], expected['x-hub-signature'], f.event);
      assert.deepEqual(JSON.parse(f.rawBody), f.payload);
      assert.doesNotMatch(f.rawBody, /[^\x00-\x7f]/, 'Meta bodies are ASCII only');
    }
  });
  it('twilio: the SDK validates every fixture against its URL', async () => {
    const fixtures = await load('twilio');
    assert.ok(fixtures.length >= 10);
    for (const f of fixtures) {
      assert.equal(twilio.validateRequest(f.secret, f.headers['x-twilio-signature']!, f.url!, f.payload as Record<string, string>), true, f.event);
    }
  });
  it('line: the SDK validates every fixture', async () => {
    const fixtures = await load('line');
    assert.ok(fixtures.length >= 10);
    for (const f of fixtures) assert.equal(validateSignature(f.rawBody, f.secret, f.headers['x-line-signature']!), true, f.event);
  });
});
