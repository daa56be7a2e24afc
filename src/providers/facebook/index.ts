import { resolveOptions, type AdapterOptions } from '../options.ts';
import type { ProviderAdapter, ProviderEndpoints } from '../types.ts';
import { facebookCapabilities } from './capabilities.ts';
import { decodeFacebook } from './decode.ts';
import { createGraph } from './graph.ts';
import { facebookThreadControl } from './handover.ts';
import { fetchFacebookMedia } from './media.ts';
import { facebookProfile } from './profile.ts';
import { checkFacebookCredentials, provisionFacebook } from './provisioning.ts';
import { sendFacebook } from './send.ts';
import { facebookHandshake, verifyFacebookSignature } from './signature.ts';

export { classifyGraphError } from './errors.ts';

/** Facebook Messenger through the Graph API (Send API, webhooks with X-Hub-Signature-256). */
export function createFacebookAdapter(endpoints: ProviderEndpoints, adapterOptions?: AdapterOptions): ProviderAdapter<'facebook'> {
  const options = resolveOptions(adapterOptions);
  const graph = createGraph(endpoints, options);
  return {
    provider: 'facebook',
    capabilities: facebookCapabilities,
    handshake: facebookHandshake,
    verify: verifyFacebookSignature,
    decode: decodeFacebook,
    ack: () => ({ status: 200, contentType: 'text/plain', body: 'EVENT_RECEIVED' }),
    checkCredentials: (credentials) => checkFacebookCredentials(graph, credentials),
    provision: (credentials, webhook) => provisionFacebook(graph, credentials, webhook.callbackUrl),
    send: (message, credentials) => sendFacebook(graph, message, credentials),
    fetchMedia: (ref) => fetchFacebookMedia(ref, options),
    fetchProfile: (customerId, credentials) => facebookProfile(graph, customerId, credentials),
    takeThreadControl: (customerId, credentials) => facebookThreadControl(graph, credentials, { action: 'take_thread_control' }, customerId),
    passThreadControl: (customerId, targetAppId, credentials) =>
      facebookThreadControl(graph, credentials, { action: 'pass_thread_control', targetAppId }, customerId),
  };
}
