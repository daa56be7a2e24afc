import { refused } from '../credentials.ts';
import type { CredentialCheck, ProvisionResult, TwilioCredentials } from '../types.ts';
import { record, text } from '../values.ts';
import type { TwilioApi } from './api.ts';

export async function checkTwilioCredentials(api: TwilioApi, credentials: TwilioCredentials): Promise<CredentialCheck> {
  try {
    const account = record(await api(credentials, { method: 'GET', path: '' }));
    const name = text(account?.friendly_name);
    return { ok: true, ...(name ? { name } : {}) };
  } catch (error) {
    return refused(error);
  }
}

/**
 * Twilio's API cannot point a WhatsApp sender at our webhook, so provisioning checks the
 * credentials and tells the admin exactly what to paste where.
 */
export async function provisionTwilio(
  api: TwilioApi,
  credentials: TwilioCredentials,
  webhook: { callbackUrl: string; statusCallbackUrl?: string },
): Promise<ProvisionResult> {
  const steps = [
    `In the Twilio Console (Messaging → Senders → WhatsApp senders), open ${credentials.number} and paste ${webhook.callbackUrl} as the "When a message comes in" URL (HTTP POST).`,
    ...(webhook.statusCallbackUrl
      ? [`On the same sender, paste ${webhook.statusCallbackUrl} as the status callback URL (Parley also asks for it on every message it sends).`]
      : []),
  ];
  const check = await checkTwilioCredentials(api, credentials);
  if (check.ok) return { status: 'running', manualSteps: steps };
  const error = check.error!;
  const fix = error.errorClass === 'auth' ? [`Check the Account SID ${credentials.accountSid} and its Auth Token, then save them again.`] : ['Try provisioning again in a few minutes.'];
  return { status: 'needs_attention', reason: `Twilio refused the credentials: ${error.code} ${error.message}`, code: error.code, manualSteps: [...fix, ...steps] };
}
