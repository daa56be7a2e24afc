import { createServer } from 'node:net';
import { insertAccount, insertChannelInstance } from '../../src/core/channels/store.ts';
import type { Config } from '../../src/config.ts';
import { DEMO, seedDemo } from '../../src/sandbox/demo.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { startTestParley, type TestParley } from './parley.ts';

/** A free TCP port on loopback, so a server's public URL is known before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface DemoChannels {
  facebook: { id: string; webhookKey: string; verifyToken: string | null };
  whatsapp: { id: string; webhookKey: string };
  line: { id: string; webhookKey: string };
}

export interface SandboxedParley {
  parley: TestParley;
  sandbox: Sandbox;
  channels: DemoChannels;
  close(): Promise<void>;
}

/**
 * Parley pointed at a fresh in-process sandbox, with the demo Facebook page, WhatsApp number
 * and LINE account connected both ways (Parley's channels hold the demo credentials; the
 * sandbox delivers webhooks to Parley's URLs).
 */
export async function startSandboxedParley(overrides: Partial<Config> = {}): Promise<SandboxedParley> {
  const sandbox = await startSandbox();
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const parley = await startTestParley({
    port,
    publicUrl,
    facebookGraphUrl: sandbox.urls.facebookGraph,
    twilioApiUrl: sandbox.urls.twilioApi,
    lineApiUrl: sandbox.urls.lineApi,
    lineDataUrl: sandbox.urls.lineData,
    ...overrides,
  }, { now: () => sandbox.clock.now() });
  const { db } = parley.database;
  const { secrets } = parley;
  const fbAccount = await insertAccount(db, secrets, { provider: 'facebook', name: 'Demo app', externalId: DEMO.facebook.appId, secret: DEMO.facebook.appSecret });
  const facebook = await insertChannelInstance(db, secrets, { accountId: fbAccount, provider: 'facebook', name: DEMO.facebook.pageName, externalId: DEMO.facebook.pageId, token: DEMO.facebook.pageAccessToken });
  const twAccount = await insertAccount(db, secrets, { provider: 'twilio-whatsapp', name: 'Demo Twilio', externalId: DEMO.twilio.accountSid, secret: DEMO.twilio.authToken });
  const whatsapp = await insertChannelInstance(db, secrets, { accountId: twAccount, provider: 'twilio-whatsapp', name: 'Demo number', externalId: DEMO.twilio.whatsappNumber.replace('whatsapp:', '') });
  const lineAccount = await insertAccount(db, secrets, { provider: 'line', name: 'Demo LINE', externalId: DEMO.line.channelId, secret: DEMO.line.channelSecret });
  const line = await insertChannelInstance(db, secrets, { accountId: lineAccount, provider: 'line', name: 'Demo LINE', externalId: DEMO.line.channelId, token: DEMO.line.accessToken });
  seedDemo(sandbox, {
    facebookCallbackUrl: `${publicUrl}/webhooks/facebook/${facebook.webhookKey}`,
    twilioInboundUrl: `${publicUrl}/webhooks/twilio-whatsapp/${whatsapp.webhookKey}`,
    twilioStatusUrl: `${publicUrl}/webhooks/twilio-whatsapp/${whatsapp.webhookKey}/status`,
    lineWebhookUrl: `${publicUrl}/webhooks/line/${line.webhookKey}`,
  });
  return {
    parley,
    sandbox,
    channels: { facebook, whatsapp, line },
    async close() {
      await parley.stop();
      await sandbox.close();
    },
  };
}
