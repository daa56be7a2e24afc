import { retryAfterMs, type HttpAnswer } from './http.ts';
import { ProviderError, type FetchedMedia, type ProviderId } from './types.ts';

/** A download answer that is not content: what it means does not depend on the provider's API codes. */
export function downloadFailure(provider: ProviderId, answer: HttpAnswer): ProviderError {
  const info = { code: String(answer.status), message: `media download answered HTTP ${answer.status}` };
  if (answer.status === 404 || answer.status === 410 || answer.status === 403) {
    return new ProviderError(provider, 'invalid_request', { ...info, message: 'the media is gone or its URL expired' }, answer.status);
  }
  if (answer.status === 401) return new ProviderError(provider, 'auth', info, answer.status);
  if (answer.status === 429) return new ProviderError(provider, 'rate_limited', info, answer.status, retryAfterMs(answer.headers));
  if (answer.status >= 500) return new ProviderError(provider, 'transient', info, answer.status, retryAfterMs(answer.headers));
  return new ProviderError(provider, 'invalid_request', info, answer.status);
}

export function fetchedMedia(answer: HttpAnswer, fallbackType: string | undefined): FetchedMedia {
  const declared = answer.headers.get('content-type')?.split(';')[0]?.trim();
  return { status: 'ready', bytes: answer.body, contentType: declared || fallbackType || 'application/octet-stream' };
}
