import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { classifyGraphError } from '../../src/providers/facebook/index.ts';
import { graphError } from '../../src/providers/facebook/errors.ts';
import { httpCall, retryAfterMs } from '../../src/providers/http.ts';
import { classifyLineError } from '../../src/providers/line/index.ts';
import { lineError } from '../../src/providers/line/errors.ts';
import { createAdapters } from '../../src/providers/registry.ts';
import { classifyTwilioError } from '../../src/providers/twilio-whatsapp/index.ts';
import { twilioError } from '../../src/providers/twilio-whatsapp/errors.ts';
import { ProviderError } from '../../src/providers/types.ts';

const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers: new Headers(headers),
  body: Buffer.from(JSON.stringify(body)),
  url: 'https://provider.example/x',
});

describe('error classification by provider codes', () => {
  it('Facebook Graph codes and subcodes', () => {
    const table: Array<[number | undefined, number | undefined, number, string]> = [
      [190, undefined, 400, 'auth'],
      [190, 463, 400, 'auth'],
      [190, 460, 400, 'auth'],
      [102, undefined, 400, 'auth'],
      [10, 2018278, 400, 'window_closed'],
      [10, 2534022, 400, 'window_closed'],
      [10, 2018065, 400, 'window_closed'],
      [10, 2018108, 400, 'recipient_unavailable'],
      [551, undefined, 400, 'recipient_unavailable'],
      [551, 1545041, 400, 'recipient_unavailable'],
      [200, 1545041, 400, 'recipient_unavailable'],
      [100, 2018001, 400, 'recipient_unavailable'],
      [4, undefined, 400, 'rate_limited'],
      [17, undefined, 400, 'rate_limited'],
      [32, undefined, 400, 'rate_limited'],
      [613, undefined, 400, 'rate_limited'],
      [613, 2534040, 400, 'rate_limited'],
      [613, 2018338, 400, 'invalid_request'],
      [10, 2018300, 400, 'thread_owned_elsewhere'],
      [2018300, undefined, 400, 'thread_owned_elsewhere'],
      [200, 2018028, 403, 'auth'],
      [1, undefined, 500, 'transient'],
      [2, undefined, 503, 'transient'],
      [undefined, undefined, 502, 'transient'],
      [100, 2018109, 400, 'invalid_request'],
      [100, undefined, 400, 'invalid_request'],
      [undefined, undefined, 404, 'invalid_request'],
    ];
    for (const [code, subcode, status, expected] of table) assert.equal(classifyGraphError(code, subcode, status), expected, `${code}/${subcode}`);
  });

  it('Twilio codes, then HTTP statuses', () => {
    const table: Array<[number | undefined, number | undefined, string]> = [
      [20003, 401, 'auth'],
      [20429, 429, 'rate_limited'],
      [63018, 400, 'rate_limited'],
      [63016, undefined, 'window_closed'],
      [21211, 400, 'recipient_unavailable'],
      [21610, 400, 'recipient_unavailable'],
      [63024, undefined, 'recipient_unavailable'],
      [21606, 400, 'invalid_request'],
      [63007, 400, 'invalid_request'],
      [21602, 400, 'invalid_request'],
      [21617, 400, 'invalid_request'],
      [undefined, 429, 'rate_limited'],
      [undefined, 401, 'auth'],
      [20500, 500, 'transient'],
      [undefined, 503, 'transient'],
    ];
    for (const [code, status, expected] of table) assert.equal(classifyTwilioError(code, status), expected, `${code}/${status}`);
  });

  it('LINE statuses', () => {
    assert.deepEqual([401, 403, 429, 400, 404, 409, 413, 500, 503].map(classifyLineError), [
      'auth', 'auth', 'rate_limited', 'invalid_request', 'invalid_request', 'invalid_request', 'invalid_request', 'transient', 'transient',
    ]);
  });

  it('Retry-After, as seconds or a date, becomes retryAfterMs', () => {
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '7' })), 7000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }), Date.parse('Thu, 01 Jan 2026 00:00:00 GMT')), 30_000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'soon' })), undefined);
    assert.equal(retryAfterMs(new Headers()), undefined);
    const fb = graphError(answer(400, { error: { code: 613, message: 'slow down' } }, { 'retry-after': '3' }));
    assert.deepEqual([fb.errorClass, fb.retryAfterMs, fb.retryable], ['rate_limited', 3000, true]);
    const tw = twilioError(answer(429, { code: 20429, message: 'Too Many Requests', status: 429 }, { 'retry-after': '2' }));
    assert.deepEqual([tw.errorClass, tw.retryAfterMs, tw.info.code], ['rate_limited', 2000, '20429']);
    const line = lineError(answer(429, { message: 'The API rate limit has been exceeded. Try again later.' }, { 'retry-after': '1' }));
    assert.deepEqual([line.errorClass, line.retryAfterMs], ['rate_limited', 1000]);
  });

  it('error bodies that are not the provider\'s shape still classify by status', () => {
    const html = { status: 502, headers: new Headers(), body: Buffer.from('<html>Bad gateway</html>'), url: 'x' };
    assert.equal(graphError(html).errorClass, 'transient');
    assert.equal(twilioError(html).errorClass, 'transient');
    assert.equal(lineError(html).errorClass, 'transient');
    assert.equal(graphError(html).info.code, 'http_502');
  });
});

describe('shared HTTP helper', () => {
  it('turns a refused connection into a transient ProviderError', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await assert.rejects(httpCall('line', { method: 'GET', url: `http://127.0.0.1:${port}/`, timeoutMs: 1000 }), (error: unknown) => {
      assert.ok(error instanceof ProviderError);
      assert.equal(error.errorClass, 'transient');
      assert.equal(error.info.code, 'network');
      return true;
    });
  });
});

describe('adapter registry', () => {
  it('gives each provider its adapter and lists all three', () => {
    const adapters = createAdapters({ facebookGraph: 'https://graph.facebook.com', facebookGraphVersion: 'v25.0', twilioApi: 'https://api.twilio.com', lineApi: 'https://api.line.me', lineData: 'https://api-data.line.me' });
    assert.deepEqual(adapters.all().map((a) => a.provider), ['facebook', 'twilio-whatsapp', 'line']);
    assert.equal(adapters.get('line').provider, 'line');
    assert.equal(adapters.get('facebook').capabilities.humanAgentTagHours, 168);
    assert.equal(adapters.get('twilio-whatsapp').capabilities.templatesOutsideWindow, true);
    assert.equal(adapters.get('line').capabilities.windowHours, null);
    assert.equal(adapters.get('line').capabilities.messagesPerRequest, 5);
    assert.equal(adapters.get('line').handshake, undefined);
    assert.throws(() => adapters.get('sms' as 'line'), /no adapter/);
  });
});
