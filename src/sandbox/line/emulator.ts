import type { FastifyInstance } from 'fastify';
import { Emulator, type ProviderRequest } from '../emulator.ts';
import type { FaultKind } from '../faults.ts';
import { bearerToken, createApp, header, isRecord, listen, type Answer } from '../http.ts';
import { hex, lineMessageId, ulid, uuid } from '../ids.ts';
import { placeholderMedia } from '../media.ts';
import { Recorder } from '../recorder.ts';
import { lineSignature } from '../signing.ts';
import { deliverWebhook, type WebhookDelivery } from '../webhook-delivery.ts';
import { lineErrors, validateMessages } from './errors.ts';
import { asRedelivery, lineEvent, webhookBody, type LineEvent } from './events.ts';
import { registerLineTestRoutes } from './test-api.ts';

export interface LineChannel {
  channelId: string;
  channelSecret: string;
  accessToken: string;
  /** The bot's own user id (`destination` of webhooks): `U` + 32 hex. */
  botUserId: string;
  name: string;
  basicId: string;
  webhookEndpoint?: string | undefined;
  /** "Webhook redelivery" in the console: failed deliveries are re-sent with isRedelivery. */
  redelivery: boolean;
}

export interface LineUser {
  userId: string;
  displayName: string;
  pictureUrl?: string;
  statusMessage?: string;
  language?: string;
}

export interface LineSettings {
  /** How long a reply token stays usable (LINE documents one minute). */
  replyTokenTtlMs: number;
  /** LINE counts no answer within 2 s as a failed delivery. */
  webhookTimeoutMs: number;
  /** Redelivery attempts for channels that enabled redelivery. */
  redeliveryAttempts: number;
  /** Download polls answered 202 before media content is ready (per-message override possible). */
  defaultPreparingPolls: number;
}

export interface LineOutbound {
  at: number;
  channelId: string;
  api: 'reply' | 'push';
  to?: string | undefined;
  replyToken?: string | undefined;
  retryKey?: string | undefined;
  messages: unknown[];
  sentMessages: Array<{ id: string; quoteToken?: string }>;
  requestId: string;
}

interface ReplyToken {
  channelId: string;
  issuedAt: number;
  eventAt: number;
  used: boolean;
}

interface Content {
  storeId: string;
  /** 202 answers left before the content is ready. */
  pendingPolls: number;
  gone: boolean;
}

export type LineAttachment =
  | { kind: 'image' | 'video' | 'audio' | 'file'; bytes?: Buffer | undefined; contentType?: string | undefined; fileName?: string | undefined; durationMs?: number | undefined; preparingPolls?: number | undefined }
  | { kind: 'location'; latitude: number; longitude: number; title?: string | undefined; address?: string | undefined }
  | { kind: 'sticker'; packageId?: string | undefined; stickerId?: string | undefined };

export interface LineInbound {
  /** Channel id or the bot's user id. */
  channel: string;
  userId: string;
  event?: 'message' | 'postback' | 'follow' | 'unfollow';
  text?: string | undefined;
  attachment?: LineAttachment | undefined;
  postback?: { data: string; params?: Record<string, string> } | undefined;
  quotedMessageId?: string | undefined;
}

export interface LineInboundResult {
  event: LineEvent;
  messageId?: string | undefined;
  replyToken?: string | undefined;
  deliveries: WebhookDelivery[];
  skipped?: string | undefined;
}

const RECIPIENT = /^[UCR][0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RETRY_KEY_LIFETIME = 24 * 3_600_000;
const REDELIVERY_TOKEN_LIMIT = 20 * 60_000;
const QUOTABLE = ['text', 'textV2', 'image', 'video', 'sticker'];

/** LINE Messaging API emulator: the api host plus a separate data host for content. */
export class LineEmulator extends Emulator<LineSettings> {
  readonly provider = 'line' as const;
  settings: LineSettings = this.defaultSettings();
  readonly channels = new Map<string, LineChannel>();
  readonly users = new Map<string, LineUser>();
  /** Accepted reply and push calls. */
  readonly messages = new Recorder<LineOutbound>();
  /** Users who follow or wrote to a channel (`channelId:userId`): only they have profiles for it. */
  readonly friends = new Set<string>();
  readonly replyTokens = new Map<string, ReplyToken>();
  readonly contents = new Map<string, Content>();
  #retryKeys = new Map<string, { requestId: string; sentMessages: LineOutbound['sentMessages']; at: number }>();
  #dataApp: FastifyInstance | undefined;
  dataBaseUrl = 'http://sandbox-data.invalid';

  protected defaultSettings(): LineSettings {
    return { replyTokenTtlMs: 60_000, webhookTimeoutMs: 2000, redeliveryAttempts: 2, defaultPreparingPolls: 0 };
  }

  protected clearState(keepSeeds: boolean): void {
    this.messages.clear();
    this.friends.clear();
    this.replyTokens.clear();
    this.contents.clear();
    this.#retryKeys.clear();
    if (!keepSeeds) {
      this.channels.clear();
      this.users.clear();
    }
  }

  get dataApp(): FastifyInstance {
    if (!this.#dataApp) {
      const app = createApp();
      this.#registerDataRoutes(app);
      this.#dataApp = app;
    }
    return this.#dataApp;
  }

  async listenData(host = '127.0.0.1', port = 0): Promise<string> {
    this.dataBaseUrl = await listen(this.dataApp, host, port);
    return this.dataBaseUrl;
  }

  override async close(): Promise<void> {
    await this.#dataApp?.close();
    await super.close();
  }

  // ---- seeding -------------------------------------------------------------------------------

  seedChannel(input: {
    channelId: string;
    channelSecret: string;
    accessToken: string;
    botUserId: string;
    name?: string;
    webhookEndpoint?: string;
    redelivery?: boolean;
  }): LineChannel {
    if (!/^U[0-9a-f]{32}$/.test(input.botUserId)) throw new Error('botUserId must be U followed by 32 lowercase hex digits');
    const channel: LineChannel = {
      channelId: input.channelId,
      channelSecret: input.channelSecret,
      accessToken: input.accessToken,
      botUserId: input.botUserId,
      name: input.name ?? 'Parley Sandbox',
      basicId: '@' + input.channelId.slice(-7).padStart(7, '0') + 'x',
      webhookEndpoint: input.webhookEndpoint,
      redelivery: input.redelivery ?? false,
    };
    this.channels.set(channel.channelId, channel);
    return channel;
  }

  seedUser(input: { userId: string; displayName?: string; pictureUrl?: string; statusMessage?: string; language?: string }): LineUser {
    const user: LineUser = {
      userId: input.userId,
      displayName: input.displayName ?? `LINE user ${input.userId.slice(-4)}`,
      pictureUrl: input.pictureUrl ?? `https://profile.line-scdn.net/sandbox/${input.userId}`,
      ...(input.statusMessage !== undefined ? { statusMessage: input.statusMessage } : {}),
      language: input.language ?? 'en',
    };
    this.users.set(user.userId, user);
    return user;
  }

  channel(idOrBotUserId: string): LineChannel {
    const channel = this.channels.get(idOrBotUserId) ?? [...this.channels.values()].find((c) => c.botUserId === idOrBotUserId);
    if (!channel) throw new Error(`no LINE channel ${idOrBotUserId} is seeded`);
    return channel;
  }

  // ---- the simulated customer ----------------------------------------------------------------

  async receive(input: LineInbound): Promise<LineInboundResult> {
    const channel = this.channel(input.channel);
    if (!this.users.has(input.userId)) this.seedUser({ userId: input.userId });
    const kind = input.event ?? (input.postback ? 'postback' : 'message');
    const now = this.clock.now();
    const replyToken = kind === 'unfollow' ? undefined : hex(16);
    if (replyToken) this.replyTokens.set(replyToken, { channelId: channel.channelId, issuedAt: now, eventAt: now, used: false });
    if (kind === 'unfollow') this.friends.delete(`${channel.channelId}:${input.userId}`);
    else this.friends.add(`${channel.channelId}:${input.userId}`);
    const common = { webhookEventId: ulid(now), timestamp: now, source: { type: 'user' as const, userId: input.userId }, replyToken };
    let messageId: string | undefined;
    let event: LineEvent;
    if (kind === 'message') {
      messageId = lineMessageId(now);
      event = lineEvent('message', { message: this.#messageContent(messageId, input) }, common);
    } else if (kind === 'postback') {
      event = lineEvent('postback', { postback: input.postback ?? { data: '' } }, common);
    } else if (kind === 'follow') {
      event = lineEvent('follow', { follow: { isUnblocked: false } }, common);
    } else {
      event = lineEvent('unfollow', {}, common);
    }
    const { deliveries, skipped } = await this.sendEvents(channel, [event], kind);
    return { event, messageId, replyToken, deliveries, skipped };
  }

  /** Signs and POSTs events to the channel's endpoint through the webhook faults. */
  async sendEvents(channel: LineChannel, events: LineEvent[], kind: string): Promise<{ deliveries: WebhookDelivery[]; skipped?: string }> {
    const url = channel.webhookEndpoint;
    if (!url) return { deliveries: [], skipped: `channel ${channel.channelId} has no webhook endpoint` };
    const deliveries = await this.dispatch(events, { token: channel.accessToken, targets: [channel.channelId, channel.botUserId], path: url }, {
      key: `${channel.channelId} ${url}`,
      batchable: true,
      post: (batch, redelivery) => this.#post(channel, url, batch, kind, redelivery),
    });
    return { deliveries };
  }

  #post(channel: LineChannel, url: string, events: LineEvent[], kind: string, redelivery: boolean): Promise<WebhookDelivery> {
    return deliverWebhook(
      {
        provider: 'line',
        kind,
        url,
        build: (attempt) => {
          const again = redelivery || attempt > 0;
          if (again) this.#renewReplyTokens(events);
          const body = webhookBody(channel.botUserId, again ? events.map(asRedelivery) : events);
          return {
            body,
            headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'LineBotWebhook/2.0', 'x-line-signature': lineSignature(body, channel.channelSecret) },
          };
        },
      },
      { timeoutMs: this.settings.webhookTimeoutMs, retries: channel.redelivery ? this.settings.redeliveryAttempts : 0, retryDelayMs: 5 },
      () => this.clock.now(),
    );
  }

  /** A redelivered token is good for another minute, unless used or 20 minutes past the event. */
  #renewReplyTokens(events: LineEvent[]): void {
    const now = this.clock.now();
    for (const event of events) {
      const token = event.replyToken ? this.replyTokens.get(event.replyToken) : undefined;
      if (token && !token.used && now - token.eventAt < REDELIVERY_TOKEN_LIMIT) token.issuedAt = now;
    }
  }

  #messageContent(id: string, input: LineInbound): Record<string, unknown> {
    const attachment = input.attachment;
    const quoted = input.quotedMessageId ? { quotedMessageId: input.quotedMessageId } : {};
    if (!attachment) return { type: 'text', id, quoteToken: hex(24), text: input.text ?? '', ...quoted };
    switch (attachment.kind) {
      case 'location':
        return {
          type: 'location',
          id,
          ...(attachment.title !== undefined ? { title: attachment.title } : {}),
          ...(attachment.address !== undefined ? { address: attachment.address } : {}),
          latitude: attachment.latitude,
          longitude: attachment.longitude,
        };
      case 'sticker':
        return { type: 'sticker', id, quoteToken: hex(24), stickerId: attachment.stickerId ?? '52002734', packageId: attachment.packageId ?? '11537', stickerResourceType: 'STATIC', keywords: ['Hello'] };
      default: {
        const fallback = placeholderMedia(attachment.kind);
        const bytes = attachment.bytes ?? fallback.bytes;
        const stored = this.media.put(bytes, attachment.contentType ?? fallback.contentType, attachment.fileName ?? fallback.fileName);
        this.contents.set(id, { storeId: stored.id, pendingPolls: attachment.preparingPolls ?? this.settings.defaultPreparingPolls, gone: false });
        const provider = { contentProvider: { type: 'line' } };
        if (attachment.kind === 'image') return { type: 'image', id, quoteToken: hex(24), ...provider };
        if (attachment.kind === 'video') return { type: 'video', id, quoteToken: hex(24), duration: attachment.durationMs ?? 8000, ...provider };
        if (attachment.kind === 'audio') return { type: 'audio', id, duration: attachment.durationMs ?? 4000, ...provider };
        return { type: 'file', id, fileName: stored.fileName ?? 'file.bin', fileSize: bytes.length };
      }
    }
  }

  // ---- Messaging API ---------------------------------------------------------------------------

  protected faultAnswer(kind: FaultKind): Answer | undefined {
    switch (kind) {
      case 'invalid-token':
        return lineErrors.invalidToken();
      case 'expired-token':
        return lineErrors.expiredToken();
      case 'rate-limit':
        return lineErrors.rateLimit();
      case 'app-rate-limit':
        return lineErrors.monthlyLimit();
      case 'server-error':
        return lineErrors.serverError();
      default:
        return undefined;
    }
  }

  protected registerTestRoutes(app: FastifyInstance): void {
    registerLineTestRoutes(app, this);
  }

  protected registerProviderRoutes(app: FastifyInstance): void {
    this.route(app, 'POST', '/v2/bot/message/reply', (r) => this.#authorized(r, (c) => this.#reply(r, c)));
    this.route(app, 'POST', '/v2/bot/message/push', (r) => this.#authorized(r, (c) => this.#push(r, c)));
    this.route(app, 'GET', '/v2/bot/profile/:userId', (r) =>
      this.#authorized(r, (c) => {
        const user = this.users.get(r.params.userId!);
        return user && this.friends.has(`${c.channelId}:${user.userId}`) ? { status: 200, body: user } : lineErrors.notFound();
      }),
    );
    this.route(app, 'GET', '/v2/bot/info', (r) =>
      this.#authorized(r, (c) => ({
        status: 200,
        body: { userId: c.botUserId, basicId: c.basicId, displayName: c.name, chatMode: 'chat', markAsReadMode: 'manual' },
      })),
    );
    this.route(app, 'PUT', '/v2/bot/channel/webhook/endpoint', (r) => this.#authorized(r, (c) => this.#setEndpoint(r, c)));
    this.route(app, 'GET', '/v2/bot/channel/webhook/endpoint', (r) =>
      this.#authorized(r, (c) => ({ status: 200, body: { endpoint: c.webhookEndpoint ?? '', active: Boolean(c.webhookEndpoint) } })),
    );
    this.route(app, 'POST', '/v2/bot/channel/webhook/test', (r) => this.#authorized(r, (c) => this.#testEndpoint(r, c)));
  }

  #registerDataRoutes(app: FastifyInstance): void {
    this.route(app, 'GET', '/v2/bot/message/:messageId/content', (r) =>
      this.#authorized(r, () => {
        const content = this.contents.get(r.params.messageId!);
        if (!content) return lineErrors.notFound();
        if (content.gone) return { status: 410, body: { message: 'The content is gone' } };
        if (content.pendingPolls > 0) {
          content.pendingPolls -= 1;
          return { status: 202, body: {} };
        }
        const media = this.media.get(content.storeId)!;
        return { status: 200, headers: { 'content-type': media.contentType, 'content-length': String(media.bytes.length) }, body: media.bytes };
      }),
    );
    this.route(app, 'GET', '/v2/bot/message/:messageId/content/transcoding', (r) =>
      this.#authorized(r, () => {
        const content = this.contents.get(r.params.messageId!);
        if (!content) return lineErrors.notFound();
        return { status: 200, body: { status: content.pendingPolls > 0 ? 'processing' : 'succeeded' } };
      }),
    );
  }

  /** Bearer token → channel, with the request faults and LINE's request id header. */
  async #authorized(request: ProviderRequest, handle: (channel: LineChannel) => Answer | Promise<Answer>): Promise<Answer> {
    const token = bearerToken(request.raw);
    const channel = token ? [...this.channels.values()].find((c) => c.accessToken === token) : undefined;
    const requestId = uuid();
    const answer =
      (await this.requestFault({ token, targets: [channel?.channelId, channel?.botUserId], path: request.path })) ??
      (!header(request.raw, 'authorization') ? lineErrors.missingAuth() : !channel ? lineErrors.invalidToken() : await handle(channel));
    return { ...answer, headers: { 'x-line-request-id': requestId, ...answer.headers } };
  }

  #jsonBody(request: ProviderRequest): { body: Record<string, unknown> } | { error: Answer } {
    if (request.body.jsonError || !isRecord(request.body.json)) {
      return { error: lineErrors.invalidBody([{ message: 'The request body could not be parsed as JSON', property: '' }]) };
    }
    return { body: request.body.json };
  }

  #reply(request: ProviderRequest, channel: LineChannel): Answer {
    if (header(request.raw, 'x-line-retry-key') !== undefined) return lineErrors.retryKeyNotSupported();
    const parsed = this.#jsonBody(request);
    if ('error' in parsed) return parsed.error;
    const body = parsed.body;
    const details = [
      ...(typeof body.replyToken !== 'string' || body.replyToken === '' ? [{ message: 'May not be empty', property: 'replyToken' }] : []),
      ...validateMessages(body.messages),
    ];
    if (details.length) return lineErrors.invalidBody(details);
    const token = this.replyTokens.get(String(body.replyToken));
    if (!token || token.used || token.channelId !== channel.channelId || this.clock.now() - token.issuedAt > this.settings.replyTokenTtlMs) {
      return lineErrors.invalidReplyToken();
    }
    token.used = true;
    const messages = body.messages as Array<Record<string, unknown>>;
    const sentMessages = this.#sentMessages(messages);
    this.messages.add({ at: this.clock.now(), channelId: channel.channelId, api: 'reply', replyToken: String(body.replyToken), messages, sentMessages, requestId: uuid() });
    return { status: 200, body: { sentMessages } };
  }

  #push(request: ProviderRequest, channel: LineChannel): Answer {
    const retryKey = header(request.raw, 'x-line-retry-key');
    if (retryKey !== undefined && !UUID.test(retryKey)) return lineErrors.invalidRetryKey();
    const keyId = `${channel.channelId}:${retryKey}`;
    const accepted = retryKey !== undefined ? this.#retryKeys.get(keyId) : undefined;
    if (accepted && this.clock.now() - accepted.at < RETRY_KEY_LIFETIME) {
      return {
        status: 409,
        headers: { 'x-line-accepted-request-id': accepted.requestId },
        body: { message: 'The retry key is already accepted', sentMessages: accepted.sentMessages },
      };
    }
    const parsed = this.#jsonBody(request);
    if ('error' in parsed) return parsed.error;
    const body = parsed.body;
    const details = [
      ...(typeof body.to !== 'string' || body.to === '' ? [{ message: 'May not be empty', property: 'to' }] : []),
      ...validateMessages(body.messages),
    ];
    if (details.length) return lineErrors.invalidBody(details);
    if (!RECIPIENT.test(String(body.to))) return lineErrors.invalidTo();
    const messages = body.messages as Array<Record<string, unknown>>;
    const sentMessages = this.#sentMessages(messages);
    const requestId = uuid();
    if (retryKey !== undefined) this.#retryKeys.set(keyId, { requestId, sentMessages, at: this.clock.now() });
    this.messages.add({ at: this.clock.now(), channelId: channel.channelId, api: 'push', to: String(body.to), retryKey, messages, sentMessages, requestId });
    return { status: 200, headers: { 'x-line-request-id': requestId }, body: { sentMessages } };
  }

  #sentMessages(messages: Array<Record<string, unknown>>): LineOutbound['sentMessages'] {
    const now = this.clock.now();
    return messages.map((m) => ({ id: lineMessageId(now), ...(QUOTABLE.includes(String(m.type)) ? { quoteToken: hex(24) } : {}) }));
  }

  async #setEndpoint(request: ProviderRequest, channel: LineChannel): Promise<Answer> {
    const parsed = this.#jsonBody(request);
    if ('error' in parsed) return parsed.error;
    const body = parsed.body;
    const endpoint = body.endpoint;
    if (typeof endpoint !== 'string' || endpoint.length > 500 || !isHttpUrl(endpoint)) return lineErrors.invalidEndpoint();
    channel.webhookEndpoint = endpoint;
    await this.probe(channel, endpoint);
    return { status: 200, body: {} };
  }

  async #testEndpoint(request: ProviderRequest, channel: LineChannel): Promise<Answer> {
    const body = isRecord(request.body.json) ? request.body.json : {};
    const endpoint = typeof body.endpoint === 'string' ? body.endpoint : channel.webhookEndpoint;
    if (!endpoint) return { status: 400, body: { message: 'The webhook endpoint is not set' } };
    if (!isHttpUrl(endpoint)) return lineErrors.invalidEndpoint();
    const delivery = await this.probe(channel, endpoint);
    const attempt = delivery.attempts[0]!;
    const success = delivery.ok;
    const reason = success ? 'OK' : attempt.error === 'timeout' ? 'REQUEST_TIMEOUT' : attempt.status === undefined ? 'COULD_NOT_CONNECT' : 'ERROR_STATUS_CODE';
    return {
      status: 200,
      body: {
        success,
        timestamp: new Date(this.clock.now()).toISOString(),
        statusCode: attempt.status ?? 0,
        reason,
        detail: attempt.status !== undefined ? String(attempt.status) : (attempt.error ?? ''),
      },
    };
  }

  /** The empty-events POST LINE sends to check an endpoint. */
  async probe(channel: LineChannel, endpoint: string): Promise<WebhookDelivery> {
    const body = webhookBody(channel.botUserId, []);
    return this.webhooks.add(
      await deliverWebhook(
        {
          provider: 'line',
          kind: 'probe',
          url: endpoint,
          build: () => ({ body, headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'LineBotWebhook/2.0', 'x-line-signature': lineSignature(body, channel.channelSecret) } }),
        },
        { timeoutMs: this.settings.webhookTimeoutMs, retries: 0 },
        () => this.clock.now(),
      ),
    );
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
