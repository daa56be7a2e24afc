import type { FastifyInstance } from 'fastify';
import { DAY, HOUR } from '../clock.ts';
import { Emulator, type ProviderRequest } from '../emulator.ts';
import type { FaultKind } from '../faults.ts';
import { bearerToken, isRecord, type Answer } from '../http.ts';
import { messengerMid, numericId } from '../ids.ts';
import { placeholderMedia } from '../media.ts';
import { metaJson } from '../meta-json.ts';
import { Recorder } from '../recorder.ts';
import { metaSignatureHeaders } from '../signing.ts';
import { deliverWebhook, sleep, type WebhookDelivery } from '../webhook-delivery.ts';
import {
  DEFAULT_FIELDS,
  EVENT_FIELDS,
  deliveryEvent,
  echoEvent,
  entryFor,
  inboundMessage,
  pageEnvelope,
  postbackEvent,
  readEvent,
  type Entry,
  type EventKind,
  type MessagingEvent,
} from './events.ts';
import { graphErrors } from './graph-errors.ts';
import { registerFacebookTestRoutes } from './test-api.ts';

export interface FacebookApp {
  appId: string;
  appSecret: string;
  name: string;
  /** Set by a verified `POST /{app-id}/subscriptions`, or directly when seeding. */
  callbackUrl?: string | undefined;
  verifyToken?: string | undefined;
  fields: string[];
}

export interface FacebookPage {
  pageId: string;
  name: string;
  accessToken: string;
  appId: string;
  /** Fields the app is subscribed to on this page (`subscribed_apps`); null when not subscribed. */
  subscribedFields: string[] | null;
}

export interface FacebookUser {
  psid: string;
  pageId: string;
  first_name: string;
  last_name: string;
  profile_pic: string;
  locale: string;
  timezone: number;
  gender?: string;
}

export interface FacebookSettings {
  webhookTimeoutMs: number;
  webhookRetries: number;
  /** Send a `delivery` event after each accepted message. */
  autoDelivery: boolean;
  /** Send a `read` event after each accepted message. */
  autoRead: boolean;
  receiptDelayMs: number;
  echoes: boolean;
  /** Continuous delivery failure for this long unsubscribes the app from its pages (Meta: 1 hour). */
  disableAfterMs: number;
}

/** A message accepted by the Send API. */
export interface FacebookOutbound {
  at: number;
  mid: string;
  pageId: string;
  psid: string;
  messagingType: string;
  tag?: string | undefined;
  message: Record<string, unknown>;
  attachmentId?: string | undefined;
}

export interface FacebookInbound {
  pageId: string;
  psid: string;
  text?: string | undefined;
  attachment?: InboundAttachment | undefined;
  quickReplyPayload?: string | undefined;
  postback?: { title: string; payload: string } | undefined;
  replyToMid?: string | undefined;
}

export type InboundAttachment =
  | { kind: 'image' | 'video' | 'audio' | 'file'; bytes?: Buffer | undefined; contentType?: string | undefined; fileName?: string | undefined }
  | { kind: 'location'; latitude: number; longitude: number; title?: string | undefined; address?: string | undefined }
  | { kind: 'sticker'; stickerId?: string | undefined };

export interface InboundResult {
  mid: string;
  timestamp: number;
  event: MessagingEvent;
  mediaUrl?: string | undefined;
  deliveries: WebhookDelivery[];
  /** Why nothing was delivered (no callback registered, page not subscribed to the field). */
  skipped?: string | undefined;
}

const HUMAN_AGENT_WINDOW = 7 * DAY;
const STANDARD_WINDOW = 24 * HOUR;
const ALWAYS_ALLOWED_TAGS = ['ACCOUNT_UPDATE', 'CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE'];
const MESSAGING_TYPES = ['RESPONSE', 'UPDATE', 'MESSAGE_TAG'];
const VERSION = /^v\d+\.\d+$/;

/** Meta Graph API (Messenger Platform) emulator. */
export class FacebookEmulator extends Emulator<FacebookSettings> {
  readonly provider = 'facebook' as const;
  settings: FacebookSettings = this.defaultSettings();
  readonly apps = new Map<string, FacebookApp>();
  readonly pages = new Map<string, FacebookPage>();
  readonly users = new Map<string, FacebookUser>();
  /** Accepted Send API messages. */
  readonly messages = new Recorder<FacebookOutbound>();
  /** Last inbound message time per `pageId:psid`, which opens the messaging window. */
  readonly lastInbound = new Map<string, number>();
  #timers = new Set<NodeJS.Timeout>();
  /** When each app's deliveries started failing without a success since. */
  readonly failingSince = new Map<string, number>();
  /** Handover protocol: the app controlling each `pageId:psid` thread, when not the page's own app. */
  readonly threadOwners = new Map<string, string>();

  protected defaultSettings(): FacebookSettings {
    return { webhookTimeoutMs: 5000, webhookRetries: 3, autoDelivery: true, autoRead: false, receiptDelayMs: 20, echoes: true, disableAfterMs: 3_600_000 };
  }

  protected clearState(keepSeeds: boolean): void {
    this.messages.clear();
    this.lastInbound.clear();
    this.failingSince.clear();
    this.threadOwners.clear();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (!keepSeeds) {
      this.apps.clear();
      this.pages.clear();
      this.users.clear();
    }
  }

  override async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    await super.close();
  }

  // ---- seeding -------------------------------------------------------------------------------

  seedApp(input: { appId: string; appSecret: string; name?: string; callbackUrl?: string; verifyToken?: string; fields?: string[] }): FacebookApp {
    const app: FacebookApp = {
      appId: input.appId,
      appSecret: input.appSecret,
      name: input.name ?? 'Parley Sandbox App',
      callbackUrl: input.callbackUrl,
      verifyToken: input.verifyToken,
      fields: input.fields ?? DEFAULT_FIELDS,
    };
    this.apps.set(app.appId, app);
    return app;
  }

  /** Seeds a page; it starts subscribed to its app's messaging fields unless `subscribedFields` is null. */
  seedPage(input: { pageId: string; name?: string; accessToken: string; appId: string; subscribedFields?: string[] | null }): FacebookPage {
    const page: FacebookPage = {
      pageId: input.pageId,
      name: input.name ?? 'Sandbox Page',
      accessToken: input.accessToken,
      appId: input.appId,
      subscribedFields: input.subscribedFields === undefined ? [...DEFAULT_FIELDS] : input.subscribedFields,
    };
    this.pages.set(page.pageId, page);
    return page;
  }

  seedUser(input: { psid: string; pageId: string; firstName?: string; lastName?: string; locale?: string; timezone?: number; gender?: string }): FacebookUser {
    const user: FacebookUser = {
      psid: input.psid,
      pageId: input.pageId,
      first_name: input.firstName ?? 'Sam',
      last_name: input.lastName ?? `Customer${input.psid.slice(-4)}`,
      profile_pic: `${this.baseUrl}/cdn/profile/${input.psid}.png`,
      locale: input.locale ?? 'en_US',
      timezone: input.timezone ?? 0,
      ...(input.gender !== undefined ? { gender: input.gender } : {}),
    };
    this.users.set(user.psid, user);
    return user;
  }

  /** Registers the app's webhook callback without the verify handshake (the dashboard path). */
  setCallback(appId: string, callbackUrl: string, verifyToken = 'sandbox-verify-token'): void {
    const app = this.#app(appId);
    app.callbackUrl = callbackUrl;
    app.verifyToken = verifyToken;
  }

  /** The app controlling a conversation (handover protocol); the page's own app unless passed or taken. */
  threadOwner(pageId: string, psid: string): string {
    return this.threadOwners.get(`${pageId}:${psid}`) ?? this.#page(pageId).appId;
  }

  /** Hands the thread to another app, as a second receiver (an inbox or another bot) would hold it. */
  setThreadOwner(pageId: string, psid: string, appId: string): void {
    this.#page(pageId);
    this.threadOwners.set(`${pageId}:${psid}`, appId);
  }

  // ---- the simulated customer ----------------------------------------------------------------

  /** A customer writes to a page: the window opens and the signed webhook goes to the app's callback. */
  async receive(input: FacebookInbound): Promise<InboundResult> {
    const page = this.pages.get(input.pageId);
    if (!page) throw new Error(`no Facebook page ${input.pageId} is seeded`);
    if (!this.users.has(input.psid)) this.seedUser({ psid: input.psid, pageId: page.pageId });
    const timestamp = this.clock.now();
    const mid = messengerMid();
    let mediaUrl: string | undefined;
    let event: MessagingEvent;
    if (input.postback) {
      event = postbackEvent(input.psid, page.pageId, timestamp, { mid, ...input.postback });
    } else {
      const message: Record<string, unknown> = { mid };
      if (input.text !== undefined) message.text = input.text;
      if (input.quickReplyPayload !== undefined) message.quick_reply = { payload: input.quickReplyPayload };
      if (input.replyToMid !== undefined) message.reply_to = { mid: input.replyToMid };
      if (input.attachment) {
        const built = this.#inboundAttachment(input.attachment);
        mediaUrl = built.url;
        message.attachments = [built.attachment];
        if (built.stickerId !== undefined) message.sticker_id = built.stickerId;
      }
      event = inboundMessage(input.psid, page.pageId, timestamp, message);
    }
    this.lastInbound.set(`${page.pageId}:${input.psid}`, timestamp);
    const { deliveries, skipped } = await this.sendEvents(page, input.postback ? 'postback' : 'message', [event]);
    return { mid, timestamp, event, mediaUrl, deliveries, skipped };
  }

  /** Sends delivery or read receipts for a customer (the test API's trigger). */
  async receipt(kind: 'delivery' | 'read', pageId: string, psid: string, mids?: string[]): Promise<WebhookDelivery[]> {
    const page = this.#page(pageId);
    const now = this.clock.now();
    const event =
      kind === 'read'
        ? readEvent(psid, pageId, now)
        : deliveryEvent(psid, pageId, now, mids ?? this.messages.filter((m) => m.pageId === pageId && m.psid === psid).map((m) => m.mid));
    return (await this.sendEvents(page, kind, [event])).deliveries;
  }

  /** Signs and POSTs events for a page to its app's callback, through the webhook faults. */
  async sendEvents(page: FacebookPage, kind: EventKind, events: MessagingEvent[]): Promise<{ deliveries: WebhookDelivery[]; skipped?: string }> {
    const app = this.apps.get(page.appId);
    if (!app?.callbackUrl) return { deliveries: [], skipped: `app ${page.appId} has no webhook callback` };
    if (!page.subscribedFields?.includes(EVENT_FIELDS[kind])) {
      return { deliveries: [], skipped: `page ${page.pageId} is not subscribed to ${EVENT_FIELDS[kind]}` };
    }
    const callbackUrl = app.callbackUrl;
    const deliveries = await this.dispatch(
      events.map((event) => entryFor(page.pageId, event)),
      { token: page.accessToken, targets: [page.pageId], path: callbackUrl },
      {
        key: `${app.appId} ${callbackUrl}`,
        batchable: true,
        post: (entries) => this.#post(app, callbackUrl, entries, kind),
      },
    );
    return { deliveries };
  }

  async #post(app: FacebookApp, url: string, entries: Entry[], kind: string): Promise<WebhookDelivery> {
    const body = metaJson(pageEnvelope(entries));
    const headers = { 'content-type': 'application/json', 'user-agent': 'facebookexternalua', ...metaSignatureHeaders(body, app.appSecret) };
    const delivery = await deliverWebhook(
      { provider: 'facebook', kind, url, build: () => ({ body, headers }) },
      { timeoutMs: this.settings.webhookTimeoutMs, retries: this.settings.webhookRetries },
      () => this.clock.now(),
    );
    this.#trackFailures(app, delivery.ok);
    return delivery;
  }

  /** Meta unsubscribes an app from its pages ("Webhooks Disabled") after failing continuously for an hour. */
  #trackFailures(app: FacebookApp, ok: boolean): void {
    if (ok) {
      this.failingSince.delete(app.appId);
      return;
    }
    const now = this.clock.now();
    const since = this.failingSince.get(app.appId) ?? now;
    this.failingSince.set(app.appId, since);
    if (now - since < this.settings.disableAfterMs) return;
    for (const page of this.pages.values()) if (page.appId === app.appId) page.subscribedFields = null;
    this.failingSince.delete(app.appId);
  }

  #inboundAttachment(attachment: InboundAttachment): { attachment: Record<string, unknown>; url?: string; stickerId?: number } {
    if (attachment.kind === 'location') {
      const { latitude, longitude } = attachment;
      return {
        attachment: {
          type: 'location',
          title: attachment.title ?? 'Pinned Location',
          url: `https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.bing.com%2Fmaps%2F%3Fcp%3D${latitude}%257E${longitude}`,
          payload: { coordinates: { lat: latitude, long: longitude } },
        },
      };
    }
    if (attachment.kind === 'sticker') {
      const stickerId = Number(attachment.stickerId ?? '369239263222822');
      const stored = this.media.put(placeholderMedia('image').bytes, 'image/png', 'sticker.png');
      const url = this.#cdnUrl(stored.id);
      return { attachment: { type: 'image', payload: { url, sticker_id: stickerId } }, url, stickerId };
    }
    const fallback = placeholderMedia(attachment.kind);
    const stored = this.media.put(attachment.bytes ?? fallback.bytes, attachment.contentType ?? fallback.contentType, attachment.fileName ?? fallback.fileName);
    const url = this.#cdnUrl(stored.id);
    return { attachment: { type: attachment.kind, payload: { url } }, url };
  }

  /** Looks like a Meta CDN URL (signed, expiring query) but is served by this emulator. */
  #cdnUrl(id: string): string {
    const expires = Math.floor((this.clock.now() + 3 * DAY) / 1000).toString(16);
    return `${this.baseUrl}/cdn/${id}?_nc_cat=1&_nc_sid=sandbox&oh=${id.slice(0, 12)}&oe=${expires}`;
  }

  // ---- Graph API -------------------------------------------------------------------------------

  protected faultAnswer(kind: FaultKind): Answer | undefined {
    switch (kind) {
      case 'invalid-token':
        return graphErrors.invalidToken();
      case 'expired-token':
        return graphErrors.expiredToken(this.clock.now());
      case 'outside-window':
        return graphErrors.outsideWindow();
      case 'rate-limit':
        return graphErrors.pageRateLimit();
      case 'app-rate-limit':
        return graphErrors.appRateLimit();
      case 'server-error':
        return graphErrors.serverError();
      default:
        return undefined;
    }
  }

  protected registerTestRoutes(app: FastifyInstance): void {
    registerFacebookTestRoutes(app, this);
  }

  protected registerProviderRoutes(app: FastifyInstance): void {
    app.get<{ Params: { id: string } }>('/cdn/:id', async (request, reply) => {
      const media = this.media.get(request.params.id);
      if (!media) return reply.code(404).type('text/plain').send('URL signature expired');
      return reply.type(media.contentType).send(media.bytes);
    });
    app.get('/cdn/profile/:file', async (_request, reply) => reply.type('image/png').send(placeholderMedia('image').bytes));

    this.route(app, 'POST', '/:version/me/messages', (r) => this.#withToken(r, (page) => this.#send(r, page)));
    this.route(app, 'POST', '/:version/:id/messages', (r) =>
      this.#withToken(r, (page) => (r.params.id === page.pageId ? this.#send(r, page) : graphErrors.unsupported('post', r.params.id!))),
    );
    for (const action of ['take_thread_control', 'pass_thread_control'] as const) {
      this.route(app, 'POST', `/:version/me/${action}`, (r) => this.#withToken(r, (page) => this.#threadControl(r, page, action)));
      this.route(app, 'POST', `/:version/:id/${action}`, (r) =>
        this.#withToken(r, (page) => (r.params.id === page.pageId ? this.#threadControl(r, page, action) : graphErrors.unsupported('post', r.params.id!))),
      );
    }
    this.route(app, 'GET', '/:version/me', (r) =>
      this.#versioned(r, async () => {
        const token = tokenOf(r);
        const app = token ? this.#appByToken(token) : undefined;
        if (app) return { status: 200, body: { name: app.name, id: app.appId } };
        return this.#withToken(r, (page) => ({ status: 200, body: { name: page.name, id: page.pageId } }));
      }),
    );
    this.route(app, 'GET', '/:version/:id', (r) => this.#withToken(r, (page) => this.#profile(r, page)));
    for (const method of ['GET', 'POST', 'DELETE'] as const) {
      this.route(app, method, '/:version/:id/subscribed_apps', (r) =>
        this.#withToken(r, (page) => (r.params.id === page.pageId ? this.#subscribedApps(r, page) : graphErrors.unsupported(method, r.params.id!))),
      );
      this.route(app, method, '/:version/:id/subscriptions', (r) => this.#versioned(r, () => this.#appSubscriptions(r)));
    }
  }

  async #versioned(request: ProviderRequest, handle: () => Answer | Promise<Answer>): Promise<Answer> {
    if (!VERSION.test(request.params.version ?? '')) return graphErrors.unknownPath(request.path);
    return handle();
  }

  /** Resolves the page access token, applying the request faults that match it. */
  async #withToken(request: ProviderRequest, handle: (page: FacebookPage) => Answer | Promise<Answer>): Promise<Answer> {
    return this.#versioned(request, async () => {
      const token = tokenOf(request);
      const page = token ? [...this.pages.values()].find((p) => p.accessToken === token) : undefined;
      const fault = await this.requestFault({ token, targets: [page?.pageId, request.params.id], path: request.path });
      if (fault) return fault;
      if (!token) return graphErrors.missingToken();
      if (!page) return graphErrors.invalidToken();
      return handle(page);
    });
  }

  #send(request: ProviderRequest, page: FacebookPage): Answer {
    const params = graphParams(request);
    const recipient = params.recipient;
    if (recipient === undefined) return graphErrors.param('The parameter recipient is required');
    if (!isRecord(recipient) || typeof recipient.id !== 'string' || recipient.id === '') {
      return graphErrors.param('Invalid parameter', 2018001);
    }
    const psid = recipient.id;
    const message = params.message;
    const senderAction = params.sender_action;
    if (message === undefined && senderAction === undefined) return graphErrors.param('Must send either message or state');
    const user = this.users.get(psid);
    if (!user || user.pageId !== page.pageId) return graphErrors.noMatchingUser();
    if (this.threadOwner(page.pageId, psid) !== page.appId) return graphErrors.threadOwnedElsewhere();
    if (message === undefined) {
      if (!['typing_on', 'typing_off', 'mark_seen'].includes(String(senderAction))) {
        return graphErrors.param('Param sender_action must be one of {typing_on, typing_off, mark_seen}');
      }
      return { status: 200, body: { recipient_id: psid } };
    }
    if (!isRecord(message)) return graphErrors.param('Param message must be a JSON object');
    const hasText = message.text !== undefined;
    const hasAttachment = message.attachment !== undefined;
    if (hasText && hasAttachment) return graphErrors.param('Only one of text or attachment can be specified', 2018013);
    if (!hasText && !hasAttachment) return graphErrors.param('Message must contain text or attachment', 2018013);
    if (hasText && (typeof message.text !== 'string' || message.text.length === 0)) {
      return graphErrors.param('Param message[text] must be a non-empty UTF-8 encoded string');
    }
    if (typeof message.text === 'string' && [...message.text].length > 2000) {
      return graphErrors.param('Length of param message[text] must be less than or equal to 2000');
    }
    let attachmentId: string | undefined;
    if (hasAttachment) {
      const problem = attachmentProblem(message.attachment);
      if (problem) return graphErrors.param(problem);
      const payload = (message.attachment as { payload: Record<string, unknown> }).payload;
      if (payload.is_reusable === true) attachmentId = numericId(16);
    }
    const messagingType = params.messaging_type === undefined ? 'RESPONSE' : String(params.messaging_type);
    if (!MESSAGING_TYPES.includes(messagingType)) {
      return graphErrors.param(`Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG} - got "${messagingType}"`);
    }
    const tag = params.tag === undefined ? undefined : String(params.tag);
    if (messagingType === 'MESSAGE_TAG') {
      if (tag === undefined) return graphErrors.param('Param tag is required when messaging_type is MESSAGE_TAG');
      if (tag !== 'HUMAN_AGENT' && !ALWAYS_ALLOWED_TAGS.includes(tag)) {
        return graphErrors.param(`Param tag must be one of {${[...ALWAYS_ALLOWED_TAGS, 'HUMAN_AGENT'].join(', ')}}`);
      }
    }
    if (!this.#windowAllows(page.pageId, psid, messagingType, tag)) return graphErrors.outsideWindow();

    const mid = messengerMid();
    const outbound: FacebookOutbound = {
      at: this.clock.now(),
      mid,
      pageId: page.pageId,
      psid,
      messagingType,
      tag,
      message,
      attachmentId,
    };
    this.messages.add(outbound);
    this.#afterSend(page, outbound);
    return { status: 200, body: { recipient_id: psid, message_id: mid, ...(attachmentId ? { attachment_id: attachmentId } : {}) } };
  }

  /** Handover protocol: the page's app takes the thread back, or passes it to `target_app_id`. */
  #threadControl(request: ProviderRequest, page: FacebookPage, action: 'take_thread_control' | 'pass_thread_control'): Answer {
    const params = graphParams(request);
    const recipient = params.recipient;
    if (recipient === undefined) return graphErrors.param('The parameter recipient is required');
    if (!isRecord(recipient) || typeof recipient.id !== 'string' || recipient.id === '') return graphErrors.param('Invalid parameter', 2018001);
    const user = this.users.get(recipient.id);
    if (!user || user.pageId !== page.pageId) return graphErrors.noMatchingUser();
    if (action === 'take_thread_control') {
      this.setThreadOwner(page.pageId, user.psid, page.appId);
      return { status: 200, body: { success: true } };
    }
    const target = params.target_app_id === undefined ? '' : String(params.target_app_id);
    if (target === '') return graphErrors.param('The parameter target_app_id is required');
    if (this.threadOwner(page.pageId, user.psid) !== page.appId) return graphErrors.threadOwnedElsewhere();
    this.setThreadOwner(page.pageId, user.psid, target);
    return { status: 200, body: { success: true } };
  }

  #windowAllows(pageId: string, psid: string, messagingType: string, tag: string | undefined): boolean {
    if (messagingType === 'MESSAGE_TAG' && tag !== 'HUMAN_AGENT') return true;
    const last = this.lastInbound.get(`${pageId}:${psid}`);
    if (last === undefined) return false;
    const age = this.clock.now() - last;
    return age <= (messagingType === 'MESSAGE_TAG' ? HUMAN_AGENT_WINDOW : STANDARD_WINDOW);
  }

  /** Echo right away, then delivery/read receipts after a short pause, as Messenger does. */
  #afterSend(page: FacebookPage, outbound: FacebookOutbound): void {
    this.#later(0, async () => {
      if (this.settings.echoes) {
        const metadata = typeof outbound.message.metadata === 'string' ? outbound.message.metadata : undefined;
        const echo = echoEvent(page.pageId, outbound.psid, this.clock.now(), {
          mid: outbound.mid,
          appId: page.appId,
          metadata,
          message: outbound.message,
        });
        await this.sendEvents(page, 'echo', [echo]);
      }
      if (this.settings.autoDelivery || this.settings.autoRead) await sleep(this.settings.receiptDelayMs);
      if (this.settings.autoDelivery) await this.receipt('delivery', page.pageId, outbound.psid, [outbound.mid]);
      if (this.settings.autoRead) await this.receipt('read', page.pageId, outbound.psid);
    });
  }

  #later(ms: number, task: () => Promise<unknown>): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      task().catch(() => undefined);
    }, ms);
    this.#timers.add(timer);
  }

  #profile(request: ProviderRequest, page: FacebookPage): Answer {
    const id = request.params.id!;
    const fields = (request.query.get('fields') ?? 'first_name,last_name,profile_pic').split(',').map((f) => f.trim()).filter(Boolean);
    if (id === page.pageId) return { status: 200, body: pick({ id: page.pageId, name: page.name }, fields) };
    const user = this.users.get(id);
    if (!user || user.pageId !== page.pageId) return graphErrors.unsupported('get', id);
    const all: Record<string, unknown> = { ...user, name: `${user.first_name} ${user.last_name}`, id: user.psid };
    return { status: 200, body: pick(all, fields) };
  }

  #subscribedApps(request: ProviderRequest, page: FacebookPage): Answer {
    const app = this.#app(page.appId);
    if (request.method === 'GET') {
      const data = page.subscribedFields ? [{ link: `https://sandbox.invalid/apps/${app.appId}`, name: app.name, id: app.appId, subscribed_fields: page.subscribedFields }] : [];
      return { status: 200, body: { data } };
    }
    if (request.method === 'DELETE') {
      page.subscribedFields = null;
      return { status: 200, body: { success: true } };
    }
    const fields = listParam(graphParams(request).subscribed_fields);
    if (!fields) return graphErrors.param('The parameter subscribed_fields is required');
    page.subscribedFields = fields;
    return { status: 200, body: { success: true } };
  }

  async #appSubscriptions(request: ProviderRequest): Promise<Answer> {
    const appId = request.params.id!;
    const token = tokenOf(request);
    const fault = await this.requestFault({ token, targets: [appId], path: request.path });
    if (fault) return fault;
    if (!token) return graphErrors.missingToken();
    const app = this.#appByToken(token);
    if (!app) return graphErrors.invalidToken();
    if (app.appId !== appId) return graphErrors.unsupported(request.method, appId);
    if (request.method === 'GET') {
      const data = app.callbackUrl
        ? [{ object: 'page', callback_url: app.callbackUrl, active: true, fields: app.fields.map((name) => ({ name, version: 'v25.0' })) }]
        : [];
      return { status: 200, body: { data } };
    }
    if (request.method === 'DELETE') {
      app.callbackUrl = undefined;
      app.verifyToken = undefined;
      return { status: 200, body: { success: true } };
    }
    const params = graphParams(request);
    if (params.object !== 'page') return graphErrors.param('Param object must be one of {page, user, permissions, instagram}');
    if (typeof params.callback_url !== 'string' || params.callback_url === '') return graphErrors.param('The parameter callback_url is required');
    const verifyToken = typeof params.verify_token === 'string' ? params.verify_token : '';
    const problem = await this.#verifyHandshake(params.callback_url, verifyToken);
    if (problem) return problem;
    app.callbackUrl = params.callback_url;
    app.verifyToken = verifyToken;
    app.fields = listParam(params.fields) ?? app.fields;
    return { status: 200, body: { success: true } };
  }

  /** The GET challenge Meta sends before accepting a callback URL. */
  async #verifyHandshake(callbackUrl: string, verifyToken: string): Promise<Answer | undefined> {
    const challenge = numericId(10);
    let url: URL;
    try {
      url = new URL(callbackUrl);
    } catch {
      return graphErrors.param('Param callback_url must be a valid URL');
    }
    url.searchParams.set('hub.mode', 'subscribe');
    url.searchParams.set('hub.challenge', challenge);
    url.searchParams.set('hub.verify_token', verifyToken);
    const delivery = this.webhooks.add(
      await deliverWebhook(
        { provider: 'facebook', kind: 'verify', url: url.toString(), method: 'GET', build: () => ({ body: '', headers: { 'user-agent': 'facebookplatform/1.0' } }) },
        { timeoutMs: this.settings.webhookTimeoutMs, retries: 0 },
        () => this.clock.now(),
      ),
    );
    const attempt = delivery.attempts[0]!;
    if (attempt.status === undefined) {
      return graphErrors.param(`Callback verification failed with the following errors: curl_errno = 28; curl_error = ${attempt.error ?? 'failed'}`, 2200);
    }
    if (attempt.status !== 200) {
      return graphErrors.param(`Callback verification failed with the following errors: HTTP Status Code = ${attempt.status}`, 2200);
    }
    if ((attempt.responseBody ?? '') !== challenge) {
      return graphErrors.param(`Response does not match challenge, expected value="${challenge}", received="${(attempt.responseBody ?? '').slice(0, 80)}"`, 2201);
    }
    return undefined;
  }

  #appByToken(token: string): FacebookApp | undefined {
    const bar = token.indexOf('|');
    if (bar === -1) return undefined;
    const app = this.apps.get(token.slice(0, bar));
    return app && app.appSecret === token.slice(bar + 1) ? app : undefined;
  }

  #app(appId: string): FacebookApp {
    const app = this.apps.get(appId);
    if (!app) throw new Error(`no Facebook app ${appId} is seeded`);
    return app;
  }

  #page(pageId: string): FacebookPage {
    const page = this.pages.get(pageId);
    if (!page) throw new Error(`no Facebook page ${pageId} is seeded`);
    return page;
  }
}

function tokenOf(request: ProviderRequest): string | undefined {
  const fromQuery = request.query.get('access_token');
  if (fromQuery) return fromQuery;
  const body = request.body;
  const fromBody = body.form?.get('access_token') ?? (isRecord(body.json) && typeof body.json.access_token === 'string' ? body.json.access_token : undefined);
  return fromBody ?? bearerToken(request.raw);
}

/** Graph reads parameters from the query, JSON bodies and form bodies whose values may be JSON strings. */
function graphParams(request: ProviderRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const take = (name: string, value: unknown) => {
    if (name === 'access_token') return;
    out[name] = typeof value === 'string' && /^\s*[[{]/.test(value) ? parseOr(value) : value;
  };
  for (const [name, value] of request.query) take(name, value);
  if (request.body.form) for (const [name, value] of request.body.form) take(name, value);
  if (isRecord(request.body.json)) for (const [name, value] of Object.entries(request.body.json)) take(name, value);
  return out;
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function listParam(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string' && value.trim() !== '') return value.split(',').map((f) => f.trim()).filter(Boolean);
  return undefined;
}

function attachmentProblem(attachment: unknown): string | undefined {
  if (!isRecord(attachment)) return 'Param message[attachment] must be a JSON object';
  if (!['image', 'audio', 'video', 'file', 'template'].includes(String(attachment.type))) {
    return 'Param message[attachment][type] must be one of {image, audio, video, file, template}';
  }
  const payload = attachment.payload;
  if (!isRecord(payload)) return 'Param message[attachment][payload] must be a JSON object';
  if (attachment.type === 'template') return typeof payload.template_type === 'string' ? undefined : 'Param message[attachment][payload][template_type] is required';
  if (typeof payload.url !== 'string' && typeof payload.attachment_id !== 'string') {
    return 'Param message[attachment][payload][url] or [attachment_id] is required';
  }
  return undefined;
}

function pick(source: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) if (source[field] !== undefined) out[field] = source[field];
  out.id = source.id;
  return out;
}
