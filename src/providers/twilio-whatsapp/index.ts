import { resolveOptions, type AdapterOptions } from '../options.ts';
import type { ProviderAdapter, ProviderEndpoints } from '../types.ts';
import { createTwilioApi } from './api.ts';
import { twilioCapabilities } from './capabilities.ts';
import { decodeTwilio } from './decode.ts';
import { fetchTwilioMedia } from './media.ts';
import { checkTwilioCredentials, provisionTwilio } from './provisioning.ts';
import { sendTwilio } from './send.ts';
import { verifyTwilioSignature } from './signature.ts';

export { classifyTwilioError } from './errors.ts';

/** WhatsApp through Twilio Programmable Messaging (Messages.json, form webhooks with X-Twilio-Signature). */
export function createTwilioWhatsAppAdapter(endpoints: ProviderEndpoints, adapterOptions?: AdapterOptions): ProviderAdapter<'twilio-whatsapp'> {
  const options = resolveOptions(adapterOptions);
  const api = createTwilioApi(endpoints, options);
  return {
    provider: 'twilio-whatsapp',
    capabilities: twilioCapabilities,
    verify: verifyTwilioSignature,
    decode: decodeTwilio,
    // Empty TwiML: Twilio logs an error for empty or non-XML answers.
    ack: () => ({ status: 200, contentType: 'text/xml', body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>' }),
    checkCredentials: (credentials) => checkTwilioCredentials(api, credentials),
    provision: (credentials, webhook) => provisionTwilio(api, credentials, webhook),
    send: (message, credentials) => sendTwilio(api, message, credentials),
    fetchMedia: (ref, credentials) => fetchTwilioMedia(ref, credentials, options),
    // Twilio has no profile API: the WhatsApp name arrives as ProfileName with each message.
    fetchProfile: async () => null,
  };
}
