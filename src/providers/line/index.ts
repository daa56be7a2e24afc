import { resolveOptions, type AdapterOptions } from '../options.ts';
import type { ProviderAdapter, ProviderEndpoints } from '../types.ts';
import { createLineApi } from './api.ts';
import { lineCapabilities } from './capabilities.ts';
import { decodeLine } from './decode.ts';
import { fetchLineMedia } from './media.ts';
import { lineProfile } from './profile.ts';
import { checkLineCredentials, provisionLine } from './provisioning.ts';
import { sendLine } from './send.ts';
import { verifyLineSignature } from './signature.ts';

export { classifyLineError } from './errors.ts';
export { retryKeyFor } from './retry-key.ts';

/** LINE Messaging API (reply/push, content on the data host, webhooks with x-line-signature). */
export function createLineAdapter(endpoints: ProviderEndpoints, adapterOptions?: AdapterOptions): ProviderAdapter<'line'> {
  const options = resolveOptions(adapterOptions);
  const api = createLineApi(endpoints, options);
  return {
    provider: 'line',
    capabilities: lineCapabilities,
    verify: verifyLineSignature,
    decode: decodeLine,
    ack: () => ({ status: 200, contentType: 'application/json', body: '{}' }),
    checkCredentials: (credentials) => checkLineCredentials(api, credentials),
    provision: (credentials, webhook) => provisionLine(api, credentials, webhook.callbackUrl),
    send: (message, credentials) => sendLine(api, message, credentials),
    fetchMedia: (ref, credentials) => fetchLineMedia(api, ref, credentials, options),
    fetchProfile: (customerId, credentials) => lineProfile(api, customerId, credentials),
  };
}
