import { ProviderError, type CustomerProfile, type FacebookCredentials } from '../types.ts';
import { record, text } from '../values.ts';
import type { Graph } from './graph.ts';

/** No profile for this user (e.g. phone-number accounts), or no permission for the fields: the name stays unknown. */
const TOLERATED = new Set(['2018218', '2018247']);

export async function facebookProfile(graph: Graph, psid: string, credentials: FacebookCredentials): Promise<CustomerProfile | null> {
  try {
    const answer = record(
      await graph({ method: 'GET', path: `/${encodeURIComponent(psid)}`, accessToken: credentials.pageAccessToken, query: { fields: 'first_name,last_name,profile_pic' } }),
    );
    const displayName = [text(answer?.first_name), text(answer?.last_name)].filter(Boolean).join(' ');
    const avatarUrl = text(answer?.profile_pic);
    return { ...(displayName ? { displayName } : {}), ...(avatarUrl ? { avatarUrl } : {}) };
  } catch (error) {
    if (error instanceof ProviderError && (TOLERATED.has(error.info.code) || TOLERATED.has(error.info.subcode ?? ''))) return null;
    throw error;
  }
}
