import { basicAuthorization, httpCall, isSuccess } from '../http.ts';
import { downloadFailure, fetchedMedia } from '../media.ts';
import type { ResolvedOptions } from '../options.ts';
import { ProviderError, type FetchedMedia, type MediaRef, type TwilioCredentials } from '../types.ts';

/**
 * MediaUrl answers with a redirect to the file. With "Enforce HTTP Auth on Media URLs" it needs
 * Basic auth, which is sent to Twilio only: httpCall drops it when the redirect leaves the host.
 */
export async function fetchTwilioMedia(ref: MediaRef, credentials: TwilioCredentials, options: ResolvedOptions): Promise<FetchedMedia> {
  if (!ref.url) throw new ProviderError('twilio-whatsapp', 'invalid_request', { code: 'no_url', message: 'a Twilio media item needs its MediaUrl' });
  const answer = await httpCall('twilio-whatsapp', {
    method: 'GET',
    url: ref.url,
    headers: { authorization: basicAuthorization(credentials.accountSid, credentials.authToken) },
    timeoutMs: options.mediaTimeoutMs,
    maxBytes: options.maxMediaBytes,
    maxRedirects: 5,
  });
  if (!isSuccess(answer)) throw downloadFailure('twilio-whatsapp', answer);
  return fetchedMedia(answer, ref.contentType);
}
