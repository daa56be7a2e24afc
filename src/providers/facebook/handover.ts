import { ProviderError, type FacebookCredentials } from '../types.ts';
import { record } from '../values.ts';
import type { Graph } from './graph.ts';

/**
 * Handover protocol: the page's app (Parley, the primary receiver) takes a conversation back from
 * the app that controls it, or passes it on to another app by its id.
 */
export async function facebookThreadControl(
  graph: Graph,
  credentials: FacebookCredentials,
  request: { action: 'take_thread_control' } | { action: 'pass_thread_control'; targetAppId: string },
  customerId: string,
): Promise<void> {
  const json: Record<string, unknown> = { recipient: { id: customerId }, metadata: 'parley' };
  if (request.action === 'pass_thread_control') json.target_app_id = request.targetAppId;
  const answer = await graph({ method: 'POST', path: `/${credentials.pageId}/${request.action}`, accessToken: credentials.pageAccessToken, json });
  if (record(answer)?.success !== true) {
    throw new ProviderError('facebook', 'transient', { code: 'no_success', message: `${request.action} answered without success` });
  }
}
