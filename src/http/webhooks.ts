import type { FastifyInstance, FastifyRequest } from 'fastify';
import { channelCredentials, type ChannelDirectory, type ChannelRecord } from '../core/channels/directory.ts';
import type { WebhookStats } from '../core/channels/webhook-stats.ts';
import type { Inbox } from '../core/conversations/inbox.ts';
import type { InboundEvent, ProviderAdapter, ProviderId, RawWebhook } from '../providers/types.ts';
import type { SecretBox } from '../secrets.ts';

/**
 * Provider webhooks: `/webhooks/<provider>/<webhook key>` (and `/status` for Twilio status
 * callbacks). The signature is checked on the raw bytes before anything else; a verified
 * webhook is answered only once its events are durable in the inbox.
 */
export interface WebhookDeps {
  directory: ChannelDirectory;
  adapters: { get(provider: ProviderId): ProviderAdapter };
  secrets: SecretBox;
  inbox: Inbox;
  stats: WebhookStats;
  /** Public base URL: the URL providers sign (Twilio) is built from it. */
  publicUrl?: string;
}

const PROVIDERS = new Set<string>(['facebook', 'twilio-whatsapp', 'line']);

function reply(status: number, code: string, message: string) {
  return { status, body: { error: { code, message } } };
}

/** The URL exactly as the provider called it: behind a proxy, the public one. */
function calledUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  const base = publicUrl ?? `${request.protocol}://${request.host}`;
  return `${base}${request.url}`;
}

export function registerWebhooks(app: FastifyInstance, deps: WebhookDeps): void {
  void app.register(async (scope) => {
    // webhooks keep their exact bytes: signatures are computed over them
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    async function find(provider: string, key: string): Promise<{ channel: ChannelRecord; adapter: ProviderAdapter } | { status: number; body: unknown }> {
      if (!PROVIDERS.has(provider)) return reply(404, 'not_found', `unknown provider "${provider}"`);
      const channel = await deps.directory.byWebhookKey(key);
      if (!channel || channel.provider !== provider) return reply(404, 'not_found', 'no channel has this webhook URL');
      if (channel.deleted) return reply(410, 'gone', 'this channel was deleted; its webhooks are no longer accepted');
      return { channel, adapter: deps.adapters.get(channel.provider) };
    }

    scope.get<{ Params: { provider: string; key: string } }>('/webhooks/:provider/:key', { config: { public: true } }, async (request, res) => {
      const found = await find(request.params.provider, request.params.key);
      if ('status' in found) return res.status(found.status).send(found.body);
      const { channel, adapter } = found;
      if (!adapter.handshake || !channel.verifyToken) return res.status(405).send({ error: { code: 'method_not_allowed', message: 'this provider does not verify webhooks with GET' } });
      const query = new URLSearchParams(request.url.split('?')[1] ?? '');
      const result = adapter.handshake(query, channel.verifyToken);
      if (result.status !== 200) deps.stats.rejected(channel.id, 'verify token mismatch on the GET handshake');
      return res.status(result.status).type('text/plain').send(result.body);
    });

    const receive = async (request: FastifyRequest<{ Params: { provider: string; key: string } }>, res: import('fastify').FastifyReply) => {
      const found = await find(request.params.provider, request.params.key);
      if ('status' in found) return res.status(found.status).send(found.body);
      const { channel, adapter } = found;
      const webhook: RawWebhook = {
        method: request.method,
        url: calledUrl(request, deps.publicUrl),
        headers: request.headers,
        body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
      };
      if (!adapter.verify(webhook, channelCredentials(channel, deps.secrets) as never)) {
        const missing = !hasSignature(channel.provider, request.headers);
        deps.stats.rejected(channel.id, missing ? 'signature header missing' : 'signature does not match the body (wrong secret, altered body, or a URL other than the one the provider signed)');
        return res.status(missing ? 401 : 403).send({ error: { code: 'invalid_signature', message: missing ? 'the webhook carries no signature' : 'the webhook signature does not match' } });
      }
      const byChannel = await fileByChannel(channel, adapter.decode(webhook));
      await Promise.all([...byChannel].map(([channelId, events]) => deps.inbox.accept(channelId, events)));
      deps.stats.accepted(channel.id);
      const ack = adapter.ack();
      return res.status(ack.status).type(ack.contentType).send(ack.body);
    };
    /**
     * Events belong to the channel instance they name (a Facebook app's events for all its pages
     * come to one URL). An event for a page this account has not connected is kept, without a
     * customer, as unsupported: never filed under another page.
     */
    async function fileByChannel(channel: ChannelRecord, events: InboundEvent[]): Promise<Map<string, InboundEvent[]>> {
      const out = new Map<string, InboundEvent[]>();
      for (const event of events) {
        let target = channel;
        let filed = event;
        if (channel.provider === 'facebook' && event.channelRef && event.channelRef !== channel.externalId) {
          const sibling = await deps.directory.sibling(channel, event.channelRef);
          if (sibling) target = sibling;
          else filed = { type: 'unsupported', key: event.key, channelRef: event.channelRef, timestamp: event.timestamp, raw: event.raw, reason: `event for page ${event.channelRef}, which is not connected in this account` };
        }
        out.set(target.id, [...(out.get(target.id) ?? []), filed]);
      }
      return out;
    }

    scope.post('/webhooks/:provider/:key', { config: { public: true } }, receive);
    scope.post('/webhooks/:provider/:key/status', { config: { public: true } }, receive);
  });
}

const SIGNATURE_HEADERS: Record<ProviderId, string[]> = {
  facebook: ['x-hub-signature-256', 'x-hub-signature'],
  'twilio-whatsapp': ['x-twilio-signature'],
  line: ['x-line-signature'],
};

function hasSignature(provider: ProviderId, headers: FastifyRequest['headers']): boolean {
  return SIGNATURE_HEADERS[provider].some((name) => typeof headers[name] === 'string' && headers[name] !== '');
}
