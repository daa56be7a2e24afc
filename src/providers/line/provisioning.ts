import { refused } from '../credentials.ts';
import { isSuccess } from '../http.ts';
import type { CredentialCheck, LineCredentials, ProvisionResult } from '../types.ts';
import { parseJson, record, text } from '../values.ts';
import type { LineApi } from './api.ts';
import { lineError } from './errors.ts';

export async function checkLineCredentials(api: LineApi, credentials: LineCredentials): Promise<CredentialCheck> {
  try {
    const answer = await api(credentials, { method: 'GET', path: '/v2/bot/info' });
    if (!isSuccess(answer)) throw lineError(answer);
    const name = text(record(parseJson(answer.body))?.displayName);
    return { ok: true, ...(name ? { name } : {}) };
  } catch (error) {
    return refused(error);
  }
}

const CONSOLE_STEP =
  'In the LINE Developers Console, Messaging API tab of this channel, turn on "Use webhook"; in the LINE Official Account Manager, turn off auto-reply messages so they do not answer customers before agents do.';

function isHttps(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Sets the channel's webhook URL through the API. LINE accepts only https endpoints: a refused
 * plain-http URL is explained as such rather than as LINE's generic "Invalid webhook endpoint URL".
 * (The sandbox accepts http, so local setups provision without TLS.)
 */
export async function provisionLine(api: LineApi, credentials: LineCredentials, callbackUrl: string): Promise<ProvisionResult> {
  try {
    const answer = await api(credentials, { method: 'PUT', path: '/v2/bot/channel/webhook/endpoint', json: { endpoint: callbackUrl } });
    if (isSuccess(answer)) return { status: 'running', manualSteps: [CONSOLE_STEP] };
    const error = lineError(answer);
    if (answer.status === 400 && !isHttps(callbackUrl)) {
      return {
        status: 'needs_attention',
        reason: `LINE accepts only https webhook URLs, and ${callbackUrl} is not one (LINE said: ${error.info.message})`,
        code: error.info.code,
        manualSteps: [
          'Serve Parley over https (a reverse proxy with a certificate) and set PUBLIC_URL to that https address, then provision again.',
          CONSOLE_STEP,
        ],
      };
    }
    throw error;
  } catch (error) {
    const check = refused(error);
    const fix =
      check.error?.errorClass === 'auth'
        ? 'Issue a new channel access token in the LINE Developers Console (Messaging API tab) and save it in this channel.'
        : `Set the webhook URL to ${callbackUrl} by hand in the LINE Developers Console (Messaging API tab → Webhook settings).`;
    return { status: 'needs_attention', reason: `LINE refused the webhook URL: ${check.error?.message}`, ...(check.error ? { code: check.error.code } : {}), manualSteps: [fix, CONSOLE_STEP] };
  }
}
