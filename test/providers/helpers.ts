import assert from 'node:assert/strict';
import { after, before, beforeEach } from 'node:test';
import { createAdapters, type AdapterRegistry } from '../../src/providers/registry.ts';
import { ProviderError, type FacebookCredentials, type LineCredentials, type ProviderEndpoints, type RawWebhook, type TwilioCredentials } from '../../src/providers/types.ts';
import { DEMO, seedDemo, startSandbox, type Sandbox, type SayResult } from '../../src/sandbox/index.ts';
import type { Fixture } from '../helpers/fixtures.ts';
import { startReceiver } from '../sandbox/receiver.ts';

export { loadFixtures, type Fixture } from '../helpers/fixtures.ts';

export function webhookOf(fixture: Pick<Fixture, 'url' | 'headers' | 'rawBody'>, overrides: Partial<RawWebhook> = {}): RawWebhook {
  return {
    method: 'POST',
    url: fixture.url ?? 'https://parley.example.com/webhooks/test',
    headers: { ...fixture.headers },
    body: Buffer.from(fixture.rawBody, 'utf8'),
    ...overrides,
  };
}

/** What a provider actually sent to our receiver, as the webhook route would see it. */
export function webhookFromSay(result: SayResult): RawWebhook {
  if (!result.url || result.body === undefined) throw new Error(`nothing was delivered: ${result.skipped ?? 'no delivery'}`);
  return { method: 'POST', url: result.url, headers: { ...result.headers }, body: Buffer.from(result.body, 'utf8') };
}

export const facebookCredentials: FacebookCredentials = {
  appId: DEMO.facebook.appId,
  appSecret: DEMO.facebook.appSecret,
  pageId: DEMO.facebook.pageId,
  pageAccessToken: DEMO.facebook.pageAccessToken,
};
export const twilioCredentials: TwilioCredentials = {
  accountSid: DEMO.twilio.accountSid,
  authToken: DEMO.twilio.authToken,
  number: DEMO.twilio.whatsappNumber.replace(/^whatsapp:/, ''),
};
export const lineCredentials: LineCredentials = {
  channelId: DEMO.line.channelId,
  channelSecret: DEMO.line.channelSecret,
  channelAccessToken: DEMO.line.accessToken,
};

export function endpointsOf(sandbox: Sandbox): ProviderEndpoints {
  return {
    facebookGraph: sandbox.urls.facebookGraph,
    facebookGraphVersion: 'v25.0',
    twilioApi: sandbox.urls.twilioApi,
    lineApi: sandbox.urls.lineApi,
    lineData: sandbox.urls.lineData,
  };
}

export interface SandboxContext {
  sandbox: Sandbox;
  adapters: AdapterRegistry;
  receiver: Awaited<ReturnType<typeof startReceiver>>;
  hooks: { facebookCallbackUrl: string; twilioInboundUrl: string; twilioStatusUrl: string; lineWebhookUrl: string };
}

/**
 * One sandbox per test file, reset and seeded with the demo accounts before each test, webhooks
 * going to a local receiver. Adapters use short timeouts so dropped or delayed answers fail fast.
 */
export function useSandbox(options: { maxMediaBytes?: number } = {}): SandboxContext {
  const context = {} as SandboxContext;
  before(async () => {
    context.receiver = await startReceiver();
    context.sandbox = await startSandbox();
    context.adapters = createAdapters(endpointsOf(context.sandbox), { timeoutMs: 1500, mediaTimeoutMs: 1500, mediaPreparingRetryMs: 500, ...options });
    context.hooks = {
      facebookCallbackUrl: `${context.receiver.url}/webhooks/facebook`,
      twilioInboundUrl: `${context.receiver.url}/webhooks/twilio`,
      twilioStatusUrl: `${context.receiver.url}/webhooks/twilio/status`,
      lineWebhookUrl: `${context.receiver.url}/webhooks/line`,
    };
  });
  after(async () => {
    await context.sandbox.close();
    await context.receiver.close();
  });
  beforeEach(() => {
    context.sandbox.reset({ keepSeeds: false });
    context.sandbox.clock.reset();
    context.receiver.received.length = 0;
    context.receiver.respondWith(() => undefined);
    seedDemo(context.sandbox, context.hooks);
    context.sandbox.facebook.settings.autoDelivery = false;
    context.sandbox.facebook.settings.echoes = false;
    context.sandbox.twilio.settings.statusDelayMs = 5;
    context.sandbox.twilio.settings.autoRead = false;
  });
  return context;
}

/** The ProviderError a call fails with (fails the test when it succeeds or throws anything else). */
export async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProviderError, String(error));
    return error;
  }
  assert.fail('expected a ProviderError');
}
