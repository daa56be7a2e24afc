import type { FacebookEmulator } from './facebook/emulator.ts';
import type { LineEmulator } from './line/emulator.ts';
import type { TwilioEmulator } from './twilio/emulator.ts';

/** Fixed demo credentials, documented so a local Parley can be configured against the sandbox by hand. */
export const DEMO = {
  facebook: {
    appId: '100000000000001',
    appSecret: 'demo-facebook-app-secret',
    pageId: '200000000000001',
    pageName: 'Parley Demo Page',
    pageAccessToken: 'EAADEMO-page-access-token',
    verifyToken: 'demo-verify-token',
    customerPsid: '3000000000000001',
  },
  twilio: {
    accountSid: 'AC00000000000000000000000000000001',
    authToken: 'demo-twilio-auth-token',
    whatsappNumber: 'whatsapp:+14155550199',
    customerNumber: 'whatsapp:+14155550100',
    templateSid: 'HX00000000000000000000000000000001',
    templateBody: 'Hello {{1}}, we have an update on your request {{2}}.',
  },
  line: {
    channelId: '2000000001',
    channelSecret: 'demo-line-channel-secret',
    accessToken: 'demo-line-channel-access-token',
    botUserId: 'U00000000000000000000000000000001',
    customerUserId: 'U00000000000000000000000000000002',
  },
} as const;

export interface DemoWebhooks {
  facebookCallbackUrl?: string | undefined;
  twilioInboundUrl?: string | undefined;
  twilioStatusUrl?: string | undefined;
  lineWebhookUrl?: string | undefined;
}

/** Seeds one Facebook app + page, one Twilio account + WhatsApp number + template, one LINE channel. */
export function seedDemo(sandbox: { facebook: FacebookEmulator; twilio: TwilioEmulator; line: LineEmulator }, webhooks: DemoWebhooks = {}): typeof DEMO {
  const { facebook: fb, twilio: tw, line } = DEMO;
  sandbox.facebook.seedApp({
    appId: fb.appId,
    appSecret: fb.appSecret,
    name: 'Parley Demo App',
    ...(webhooks.facebookCallbackUrl ? { callbackUrl: webhooks.facebookCallbackUrl, verifyToken: fb.verifyToken } : {}),
  });
  sandbox.facebook.seedPage({ pageId: fb.pageId, name: fb.pageName, accessToken: fb.pageAccessToken, appId: fb.appId });
  sandbox.facebook.seedUser({ psid: fb.customerPsid, pageId: fb.pageId, firstName: 'Dana', lastName: 'Demo' });
  sandbox.twilio.seedAccount({ sid: tw.accountSid, authToken: tw.authToken, friendlyName: 'Parley Demo' });
  sandbox.twilio.seedNumber({
    accountSid: tw.accountSid,
    number: tw.whatsappNumber,
    ...(webhooks.twilioInboundUrl ? { inboundUrl: webhooks.twilioInboundUrl } : {}),
    ...(webhooks.twilioStatusUrl ? { statusUrl: webhooks.twilioStatusUrl } : {}),
  });
  sandbox.twilio.seedTemplate({ sid: tw.templateSid, friendlyName: 'case_update', body: tw.templateBody, variables: { 1: 'there', 2: '#1' } });
  sandbox.line.seedChannel({
    channelId: line.channelId,
    channelSecret: line.channelSecret,
    accessToken: line.accessToken,
    botUserId: line.botUserId,
    name: 'Parley Demo',
    ...(webhooks.lineWebhookUrl ? { webhookEndpoint: webhooks.lineWebhookUrl } : {}),
  });
  sandbox.line.seedUser({ userId: line.customerUserId, displayName: 'Demo Customer' });
  return DEMO;
}
