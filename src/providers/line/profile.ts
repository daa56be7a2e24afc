import { isSuccess } from '../http.ts';
import type { CustomerProfile, LineCredentials } from '../types.ts';
import { parseJson, record, text } from '../values.ts';
import type { LineApi } from './api.ts';
import { lineError } from './errors.ts';

/** 404: the user is not a friend of the account (blocked, or never consented); their name stays unknown. */
export async function lineProfile(api: LineApi, userId: string, credentials: LineCredentials): Promise<CustomerProfile | null> {
  const answer = await api(credentials, { method: 'GET', path: `/v2/bot/profile/${encodeURIComponent(userId)}` });
  if (answer.status === 404) return null;
  if (!isSuccess(answer)) throw lineError(answer);
  const body = record(parseJson(answer.body));
  const displayName = text(body?.displayName);
  const avatarUrl = text(body?.pictureUrl);
  const locale = text(body?.language);
  return { ...(displayName ? { displayName } : {}), ...(avatarUrl ? { avatarUrl } : {}), ...(locale ? { locale } : {}) };
}
