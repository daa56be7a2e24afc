import { httpCall, isSuccess } from '../http.ts';
import { downloadFailure, fetchedMedia } from '../media.ts';
import type { ResolvedOptions } from '../options.ts';
import { ProviderError, type FetchedMedia, type MediaRef } from '../types.ts';

/** Messenger attachment URLs are signed, expiring CDN links: fetched as they are, without the page token. */
export async function fetchFacebookMedia(ref: MediaRef, options: ResolvedOptions): Promise<FetchedMedia> {
  if (!ref.url) throw new ProviderError('facebook', 'invalid_request', { code: 'no_url', message: 'a Messenger attachment needs its URL' });
  const answer = await httpCall('facebook', { method: 'GET', url: ref.url, timeoutMs: options.mediaTimeoutMs, maxBytes: options.maxMediaBytes, maxRedirects: 5 });
  if (!isSuccess(answer)) throw downloadFailure('facebook', answer);
  return fetchedMedia(answer, ref.contentType);
}
