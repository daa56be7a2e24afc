import { createFacebookAdapter } from './facebook/index.ts';
import { createLineAdapter } from './line/index.ts';
import type { AdapterOptions } from './options.ts';
import { createTwilioWhatsAppAdapter } from './twilio-whatsapp/index.ts';
import type { ProviderAdapter, ProviderEndpoints, ProviderId } from './types.ts';

export interface AdapterRegistry {
  get<P extends ProviderId>(provider: P): ProviderAdapter<P>;
  all(): ProviderAdapter[];
}

/** The one place that knows every adapter by name; core code reaches providers only through this. */
export function createAdapters(endpoints: ProviderEndpoints, options?: AdapterOptions): AdapterRegistry {
  const adapters: { [P in ProviderId]: ProviderAdapter<P> } = {
    facebook: createFacebookAdapter(endpoints, options),
    'twilio-whatsapp': createTwilioWhatsAppAdapter(endpoints, options),
    line: createLineAdapter(endpoints, options),
  };
  return {
    get<P extends ProviderId>(provider: P): ProviderAdapter<P> {
      const adapter = adapters[provider];
      if (!adapter) throw new Error(`no adapter for provider "${String(provider)}"`);
      return adapter as ProviderAdapter<P>;
    },
    all: () => Object.values(adapters) as ProviderAdapter[],
  };
}
