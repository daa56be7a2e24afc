import { httpCall, isSuccess, retryAfterMs } from '../http.ts';
import { downloadFailure, fetchedMedia } from '../media.ts';
import type { ResolvedOptions } from '../options.ts';
import { ProviderError, type FetchedMedia, type LineCredentials, type MediaRef, type PendingMedia } from '../types.ts';
import type { LineApi } from './api.ts';
import { lineError } from './errors.ts';

/**
 * LINE-hosted content comes from the data host by message id; large videos answer 202 while LINE
 * prepares them. Content the customer unsent (410) or that LINE deleted (404) is gone for good.
 */
export async function fetchLineMedia(api: LineApi, ref: MediaRef, credentials: LineCredentials, options: ResolvedOptions): Promise<FetchedMedia | PendingMedia> {
  if (!ref.contentId) {
    if (!ref.url) throw new ProviderError('line', 'invalid_request', { code: 'no_content', message: 'a LINE media item needs a message id or an external URL' });
    const external = await httpCall('line', { method: 'GET', url: ref.url, timeoutMs: options.mediaTimeoutMs, maxBytes: options.maxMediaBytes, maxRedirects: 5 });
    if (!isSuccess(external)) throw downloadFailure('line', external);
    return fetchedMedia(external, ref.contentType);
  }
  const answer = await api(credentials, { host: 'data', method: 'GET', path: `/v2/bot/message/${encodeURIComponent(ref.contentId)}/content`, media: true });
  if (answer.status === 202) return { status: 'preparing', retryAfterMs: retryAfterMs(answer.headers) ?? options.mediaPreparingRetryMs };
  if (answer.status === 404 || answer.status === 410) {
    throw new ProviderError('line', 'invalid_request', { code: String(answer.status), message: 'the content is gone (unsent by the customer or deleted by LINE)' }, answer.status);
  }
  if (!isSuccess(answer)) throw lineError(answer);
  return fetchedMedia(answer, ref.contentType);
}
