import { refused } from '../credentials.ts';
import { ProviderError, type CredentialCheck, type FacebookCredentials, type ProvisionResult } from '../types.ts';
import { record, text } from '../values.ts';
import type { Graph } from './graph.ts';

export const SUBSCRIBED_FIELDS = ['messages', 'messaging_postbacks', 'message_deliveries', 'message_reads', 'message_echoes'];

export async function checkFacebookCredentials(graph: Graph, credentials: FacebookCredentials): Promise<CredentialCheck> {
  try {
    const me = record(await graph({ method: 'GET', path: '/me', accessToken: credentials.pageAccessToken }));
    const id = text(me?.id);
    const name = text(me?.name);
    // A valid token of another page would send as that page: refuse it here rather than at the first reply.
    if (id && id !== credentials.pageId) {
      return { ok: false, ...(name ? { name } : {}), error: { code: 'page_mismatch', message: `the access token belongs to page ${id}, not ${credentials.pageId}`, errorClass: 'auth' } };
    }
    return { ok: true, ...(name ? { name } : {}) };
  } catch (error) {
    return refused(error);
  }
}

function dashboardStep(appId: string, callbackUrl: string): string {
  return (
    `In the Meta App Dashboard of app ${appId}, open Messenger → Messenger API Settings → Configure webhooks: ` +
    `set the Callback URL to ${callbackUrl} and the Verify token to the one Parley shows for this channel, then subscribe to ` +
    `${SUBSCRIBED_FIELDS.join(', ')}.`
  );
}

/** Subscribes our app to the page's messaging fields; the app-level callback URL stays a dashboard step. */
export async function provisionFacebook(graph: Graph, credentials: FacebookCredentials, callbackUrl: string): Promise<ProvisionResult> {
  const dashboard = dashboardStep(credentials.appId, callbackUrl);
  try {
    await graph({
      method: 'POST',
      path: `/${credentials.pageId}/subscribed_apps`,
      accessToken: credentials.pageAccessToken,
      query: { subscribed_fields: SUBSCRIBED_FIELDS.join(',') },
    });
    return { status: 'running', manualSteps: [dashboard] };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    const steps: string[] = [];
    if (error.errorClass === 'auth') {
      steps.push(
        `Generate a new Page access token for page ${credentials.pageId} (with pages_messaging and pages_manage_metadata) and save it in this channel.`,
      );
    } else if (error.retryable) {
      steps.push('Try provisioning again in a few minutes.');
    } else {
      steps.push(`Check that app ${credentials.appId} has the pages_messaging and pages_manage_metadata permissions on page ${credentials.pageId}.`);
    }
    steps.push(dashboard);
    return { status: 'needs_attention', reason: `Facebook refused to subscribe the app to the page: ${error.message}`, code: error.info.code, manualSteps: steps };
  }
}
