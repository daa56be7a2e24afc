import type { FastifyInstance } from 'fastify';
import { HOUR } from '../clock.ts';
import { Emulator, type ProviderRequest } from '../emulator.ts';
import type { FaultKind } from '../faults.ts';
import { basicCredentials, type Answer } from '../http.ts';
import { hex, twilioSid } from '../ids.ts';
import { placeholderMedia } from '../media.ts';
import { Recorder } from '../recorder.ts';
import { safeEqual, twilioSignature } from '../signing.ts';
import { deliverWebhook, type WebhookDelivery } from '../webhook-delivery.ts';
import { ASYNC_ERROR_MESSAGES, rfc2822, twilioErrors } from './errors.ts';
import { registerTwilioTestRoutes } from './test-api.ts';

export interface TwilioAccount {
  sid: string;
  authToken: string;
  friendlyName: string;
  /** "Enforce HTTP Auth on Media URLs": media downloads need Basic auth. */
  enforceMediaAuth: boolean;
  createdAt: number;
}

export interface WhatsAppNumber {
  accountSid: string;
  /** `whatsapp:+E164` */
  address: string;
  /** Where inbound messages are POSTed (the sender's webhook in the console). */
  inboundUrl?: string | undefined;
  /** Status callback used when a message is sent without `StatusCallback`. */
  statusUrl?: string | undefined;
  messagingServiceSid?: string | undefined;
  channelInstallSid: string;
}

export interface ContentTemplate {
  sid: string;
  friendlyName: string;
  /** Text with `{{1}}`-style placeholders. */
  body: string;
  /** Default values for the placeholders. */
  variables: Record<string, string>;
}

export interface TwilioMessage {
  account_sid: string;
  api_version: '2010-04-01';
  body: string;
  date_created: string;
  date_sent: string | null;
  date_updated: string;
  direction: 'outbound-api' | 'inbound';
  error_code: number | null;
  error_message: string | null;
  from: string;
  messaging_service_sid: string | null;
  num_media: string;
  num_segments: string;
  price: string | null;
  price_unit: string | null;
  sid: string;
  status: string;
  subresource_uris: { media: string };
  to: string;
  uri: string;
}

/** An outbound message as Parley asked for it, with its current resource. */
export interface TwilioOutbound {
  at: number;
  sid: string;
  params: Record<string, string | string[]>;
  contentSid?: string | undefined;
  mediaUrls: string[];
  statusCallback?: string | undefined;
  resource: TwilioMessage;
}

export interface TwilioSettings {
  /** Pause between status transitions (queued → sent → delivered → read). */
  statusDelayMs: number;
  /** Whether the customer reads messages after they are delivered. */
  autoRead: boolean;
  webhookTimeoutMs: number;
  /** Twilio retries connection failures once and never retries an error status. */
  webhookRetries: number;
}

export interface TwilioInbound {
  /** Our WhatsApp number (`whatsapp:+E164` or `+E164`). */
  to: string;
  /** The customer's number (`whatsapp:+E164` or `+E164`). */
  from: string;
  text?: string | undefined;
  profileName?: string | undefined;
  attachment?: TwilioAttachment | undefined;
  button?: { text: string; payload: string } | undefined;
  replyToSid?: string | undefined;
  /** Extra parameters to add (Twilio adds parameters without notice). */
  extra?: Record<string, string> | undefined;
}

export type TwilioAttachment =
  | { kind: 'image' | 'video' | 'audio' | 'file' | 'sticker'; bytes?: Buffer | undefined; contentType?: string | undefined; fileName?: string | undefined }
  | { kind: 'location'; latitude: number; longitude: number; title?: string | undefined; address?: string | undefined };

export interface TwilioInboundResult {
  messageSid: string;
  params: Record<string, string>;
  mediaUrl?: string | undefined;
  deliveries: WebhookDelivery[];
  skipped?: string | undefined;
}

const WINDOW = 24 * HOUR;
const WHATSAPP_ADDRESS = /^whatsapp:\+[1-9]\d{6,14}$/;

/** Twilio Programmable Messaging (WhatsApp senders) emulator. */
export class TwilioEmulator extends Emulator<TwilioSettings> {
  readonly provider = 'twilio' as const;
  settings: TwilioSettings = this.defaultSettings();
  readonly accounts = new Map<string, TwilioAccount>();
  /** Keyed by `whatsapp:+E164`. */
  readonly numbers = new Map<string, WhatsAppNumber>();
  readonly templates = new Map<string, ContentTemplate>();
  /** Accepted outbound messages. */
  readonly messages = new Recorder<TwilioOutbound>();
  /** Last inbound message time per `customer|business` address pair. */
  readonly lastInbound = new Map<string, number>();
  #timers = new Set<NodeJS.Timeout>();
  /** Media sid → message sid, account sid and the stored file. */
  #mediaIndex = new Map<string, { accountSid: string; messageSid: string; storeId: string }>();

  protected defaultSettings(): TwilioSettings {
    return { statusDelayMs: 20, autoRead: true, webhookTimeoutMs: 15_000, webhookRetries: 1 };
  }

  protected clearState(keepSeeds: boolean): void {
    this.messages.clear();
    this.lastInbound.clear();
    this.#mediaIndex.clear();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (!keepSeeds) {
      this.accounts.clear();
      this.numbers.clear();
      this.templates.clear();
    }
  }

  override async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    await super.close();
  }

  // ---- seeding -------------------------------------------------------------------------------

  seedAccount(input: { sid: string; authToken: string; friendlyName?: string; enforceMediaAuth?: boolean }): TwilioAccount {
    const account = {
      sid: input.sid,
      authToken: input.authToken,
      friendlyName: input.friendlyName ?? 'Parley Sandbox',
      enforceMediaAuth: input.enforceMediaAuth ?? true,
      createdAt: this.clock.now(),
    };
    this.accounts.set(account.sid, account);
    return account;
  }

  seedNumber(input: { accountSid: string; number: string; inboundUrl?: string; statusUrl?: string; messagingServiceSid?: string }): WhatsAppNumber {
    if (!this.accounts.has(input.accountSid)) throw new Error(`no Twilio account ${input.accountSid} is seeded`);
    const number: WhatsAppNumber = {
      accountSid: input.accountSid,
      address: whatsappAddress(input.number),
      inboundUrl: input.inboundUrl,
      statusUrl: input.statusUrl,
      messagingServiceSid: input.messagingServiceSid,
      channelInstallSid: twilioSid('XE'),
    };
    this.numbers.set(number.address, number);
    return number;
  }

  /** Sets a number's webhooks, as the Twilio console does. */
  configureNumber(number: string, urls: { inboundUrl?: string | undefined; statusUrl?: string | undefined }): WhatsAppNumber {
    const found = this.numbers.get(whatsappAddress(number));
    if (!found) throw new Error(`no WhatsApp number ${number} is seeded`);
    if (urls.inboundUrl !== undefined) found.inboundUrl = urls.inboundUrl;
    if (urls.statusUrl !== undefined) found.statusUrl = urls.statusUrl;
    return found;
  }

  seedTemplate(input: { sid?: string; friendlyName?: string; body: string; variables?: Record<string, string> }): ContentTemplate {
    const template = {
      sid: input.sid ?? twilioSid('HX'),
      friendlyName: input.friendlyName ?? 'sandbox_template',
      body: input.body,
      variables: input.variables ?? {},
    };
    this.templates.set(template.sid, template);
    return template;
  }

  // ---- the simulated customer ----------------------------------------------------------------

  /** A customer writes on WhatsApp: the window opens and the signed form webhook goes to the number's URL. */
  async receive(input: TwilioInbound): Promise<TwilioInboundResult> {
    const to = whatsappAddress(input.to);
    const from = whatsappAddress(input.from);
    const number = this.numbers.get(to);
    if (!number) throw new Error(`no WhatsApp number ${to} is seeded`);
    const account = this.accounts.get(number.accountSid)!;
    const hasMedia = input.attachment !== undefined && input.attachment.kind !== 'location';
    const messageSid = twilioSid(hasMedia ? 'MM' : 'SM');
    const waId = from.replace(/^whatsapp:\+/, '');
    const params: Record<string, string> = {
      SmsMessageSid: messageSid,
      NumMedia: '0',
      ProfileName: input.profileName ?? 'Sandbox Customer',
      MessageType: 'text',
      SmsSid: messageSid,
      WaId: waId,
      SmsStatus: 'received',
      Body: input.text ?? '',
      To: to,
      NumSegments: '1',
      MessageSid: messageSid,
      AccountSid: account.sid,
      From: from,
      ApiVersion: '2010-04-01',
    };
    if (number.messagingServiceSid) params.MessagingServiceSid = number.messagingServiceSid;
    let mediaUrl: string | undefined;
    const attachment = input.attachment;
    if (attachment?.kind === 'location') {
      Object.assign(params, { MessageType: 'location', Latitude: String(attachment.latitude), Longitude: String(attachment.longitude) });
      if (attachment.address !== undefined) params.Address = attachment.address;
      if (attachment.title !== undefined) params.Label = attachment.title;
    } else if (attachment) {
      const media = this.#storeInboundMedia(account.sid, messageSid, attachment);
      mediaUrl = media.url;
      Object.assign(params, { NumMedia: '1', MediaUrl0: media.url, MediaContentType0: media.contentType, MessageType: media.messageType });
    }
    if (input.button) {
      Object.assign(params, { MessageType: 'button', ButtonText: input.button.text, ButtonPayload: input.button.payload, Body: input.text ?? input.button.text });
    }
    if (input.replyToSid) {
      params.OriginalRepliedMessageSid = input.replyToSid;
      params.OriginalRepliedMessageSender = to;
    }
    Object.assign(params, input.extra ?? {});
    this.lastInbound.set(`${from}|${to}`, this.clock.now());

    if (!number.inboundUrl) return { messageSid, params, mediaUrl, deliveries: [], skipped: `number ${to} has no inbound URL` };
    const url = number.inboundUrl;
    const deliveries = await this.dispatch([params], { token: account.sid, targets: [to], path: url }, {
      key: url,
      batchable: false,
      post: ([first]) => this.#postForm(account, url, first!, 'message'),
    });
    return { messageSid, params, mediaUrl, deliveries };
  }

  /** Signs with the exact URL called and posts the parameters form-encoded. */
  #postForm(account: TwilioAccount, url: string, params: Record<string, string>, kind: string): Promise<WebhookDelivery> {
    const body = new URLSearchParams(params).toString();
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'TwilioProxy/1.1',
      'i-twilio-idempotency-token': hex(16),
      'x-twilio-signature': twilioSignature(account.authToken, url, Object.entries(params)),
    };
    return deliverWebhook(
      { provider: 'twilio', kind, url, build: () => ({ body, headers }) },
      { timeoutMs: this.settings.webhookTimeoutMs, retries: this.settings.webhookRetries, retryOnStatus: false },
      () => this.clock.now(),
    );
  }

  #storeInboundMedia(accountSid: string, messageSid: string, attachment: Extract<TwilioAttachment, { bytes?: Buffer | undefined }>) {
    const placeholder = placeholderMedia(attachment.kind === 'sticker' ? 'image' : attachment.kind);
    const contentType = attachment.contentType ?? (attachment.kind === 'sticker' ? 'image/webp' : placeholder.contentType);
    const mediaSid = twilioSid('ME');
    const stored = this.media.put(attachment.bytes ?? placeholder.bytes, contentType, attachment.fileName ?? placeholder.fileName);
    this.#mediaIndex.set(mediaSid, { accountSid, messageSid, storeId: stored.id });
    const messageType = attachment.kind === 'file' ? 'document' : attachment.kind;
    return { url: `${this.baseUrl}/2010-04-01/Accounts/${accountSid}/Messages/${messageSid}/Media/${mediaSid}`, contentType, messageType };
  }

  // ---- message status ------------------------------------------------------------------------

  /** Moves a message to a new status and sends its status callback (test API trigger too). */
  async setStatus(sid: string, status: string, errorCode?: number): Promise<WebhookDelivery[]> {
    const outbound = this.messages.filter((m) => m.sid === sid)[0];
    if (!outbound) throw new Error(`no message ${sid}`);
    const now = this.clock.now();
    const resource = outbound.resource;
    resource.status = status;
    resource.date_updated = rfc2822(now);
    if (status === 'sent' && resource.date_sent === null) resource.date_sent = rfc2822(now);
    if (errorCode !== undefined) {
      resource.error_code = errorCode;
      resource.error_message = ASYNC_ERROR_MESSAGES[String(errorCode)] ?? null;
    }
    const number = this.numbers.get(resource.from);
    const url = outbound.statusCallback ?? number?.statusUrl;
    if (!url) return [];
    const account = this.accounts.get(resource.account_sid)!;
    const params: Record<string, string> = {
      ChannelToAddress: resource.to.replace(/^whatsapp:/, ''),
      ApiVersion: '2010-04-01',
      ...(number ? { ChannelInstallSid: number.channelInstallSid } : {}),
      ChannelPrefix: 'whatsapp',
      MessageStatus: status,
      SmsSid: sid,
      SmsStatus: status,
      To: resource.to,
      From: resource.from,
      MessageSid: sid,
      AccountSid: resource.account_sid,
      StructuredMessage: 'false',
    };
    if (errorCode !== undefined) params.ErrorCode = String(errorCode);
    if (['delivered', 'read', 'undelivered', 'failed'].includes(status)) params.EventType = status.toUpperCase();
    return this.dispatch([params], { token: account.sid, targets: [resource.from, resource.to], path: url }, {
      key: url,
      batchable: false,
      post: ([first]) => this.#postForm(account, url, first!, 'status'),
    });
  }

  /** queued → sent → delivered → read, or queued → undelivered (63016) outside the window. */
  #runLifecycle(sid: string, outsideWindow: boolean): void {
    const steps: Array<[string, number?]> = outsideWindow
      ? [['undelivered', 63016]]
      : [['sent'], ['delivered'], ...(this.settings.autoRead ? ([['read']] as Array<[string]>) : [])];
    const next = (index: number) => {
      const step = steps[index];
      if (!step) return;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.setStatus(sid, step[0], step[1])
          .catch(() => undefined)
          .finally(() => next(index + 1));
      }, this.settings.statusDelayMs);
      this.#timers.add(timer);
    };
    next(0);
  }

  // ---- REST API ------------------------------------------------------------------------------

  protected faultAnswer(kind: FaultKind): Answer | undefined {
    switch (kind) {
      case 'invalid-token':
      case 'expired-token':
        return twilioErrors.authenticate();
      case 'rate-limit':
      case 'app-rate-limit':
        return twilioErrors.tooManyRequests();
      case 'server-error':
        return twilioErrors.serverError();
      default:
        return undefined;
    }
  }

  protected registerTestRoutes(app: FastifyInstance): void {
    registerTwilioTestRoutes(app, this);
  }

  protected registerProviderRoutes(app: FastifyInstance): void {
    this.route(app, 'GET', '/2010-04-01/Accounts/:file', (r) =>
      this.#authenticated(r, (account) => {
        if (r.params.file !== `${account.sid}.json`) return twilioErrors.notFound(r.path);
        return { status: 200, body: accountResource(account) };
      }),
    );
    this.route(app, 'POST', '/2010-04-01/Accounts/:sid/Messages.json', (r) => this.#authenticated(r, (account) => this.#create(r, account)));
    this.route(app, 'GET', '/2010-04-01/Accounts/:sid/Messages/:file', (r) =>
      this.#authenticated(r, () => {
        const sid = (r.params.file ?? '').replace(/\.json$/, '');
        const found = this.messages.filter((m) => m.sid === sid)[0];
        return found ? { status: 200, body: found.resource } : twilioErrors.notFound(r.path);
      }),
    );
    app.get<{ Params: { sid: string; messageSid: string; mediaSid: string } }>(
      '/2010-04-01/Accounts/:sid/Messages/:messageSid/Media/:mediaSid',
      async (request, reply) => {
        const entry = this.#mediaIndex.get(request.params.mediaSid);
        const account = entry && this.accounts.get(entry.accountSid);
        if (!entry || !account || entry.accountSid !== request.params.sid || entry.messageSid !== request.params.messageSid) {
          return reply.code(404).send(twilioErrors.notFound(request.url).body);
        }
        if (account.enforceMediaAuth) {
          const credentials = basicCredentials(request);
          if (!credentials || credentials.user !== account.sid || !safeEqual(credentials.password, account.authToken)) {
            return reply.code(401).send(twilioErrors.authenticate().body);
          }
        }
        return reply.redirect(`${this.baseUrl}/mms/${entry.storeId}`, 307);
      },
    );
    app.get<{ Params: { id: string } }>('/mms/:id', async (request, reply) => {
      const media = this.media.get(request.params.id);
      if (!media) return reply.code(404).send();
      return reply.type(media.contentType).send(media.bytes);
    });
  }

  async #authenticated(request: ProviderRequest, handle: (account: TwilioAccount) => Answer | Promise<Answer>): Promise<Answer> {
    const credentials = basicCredentials(request.raw);
    const fault = await this.requestFault({ token: credentials?.user, targets: [request.body.form?.get('From') ?? undefined, request.body.form?.get('To') ?? undefined], path: request.path });
    if (fault) return fault;
    const account = credentials ? this.accounts.get(credentials.user) : undefined;
    if (!account || !safeEqual(credentials!.password, account.authToken)) return twilioErrors.authenticate();
    if (request.params.sid !== undefined && request.params.sid !== account.sid) return twilioErrors.authenticate();
    return handle(account);
  }

  #create(request: ProviderRequest, account: TwilioAccount): Answer {
    const form = request.body.form ?? new URLSearchParams();
    const to = form.get('To');
    if (!to) return twilioErrors.toRequired();
    if (!WHATSAPP_ADDRESS.test(to)) return twilioErrors.invalidTo(to);
    const serviceSid = form.get('MessagingServiceSid') ?? undefined;
    let from = form.get('From') ?? undefined;
    if (!from && !serviceSid) return twilioErrors.fromRequired();
    const number = from
      ? this.numbers.get(from)
      : [...this.numbers.values()].find((n) => n.messagingServiceSid === serviceSid && n.accountSid === account.sid);
    if (!number || number.accountSid !== account.sid) return twilioErrors.unknownFrom();
    from = number.address;
    const contentSid = form.get('ContentSid') ?? undefined;
    const mediaUrls = form.getAll('MediaUrl');
    let body = form.get('Body') ?? '';
    if (!contentSid && body === '' && mediaUrls.length === 0) return twilioErrors.bodyRequired();
    if (body.length > 1600) return twilioErrors.bodyTooLong();
    for (const url of mediaUrls) if (!/^https?:\/\/\S+$/.test(url)) return twilioErrors.invalidMediaUrl(url);
    const statusCallback = form.get('StatusCallback') ?? undefined;
    if (statusCallback !== undefined && !/^https?:\/\/\S+$/.test(statusCallback)) return twilioErrors.invalidStatusCallback();
    if (contentSid) {
      const template = this.templates.get(contentSid);
      if (!template) return twilioErrors.invalidContentSid();
      const variables = parseVariables(form.get('ContentVariables'));
      if (!variables) return twilioErrors.invalidContentVariables();
      body = renderTemplate(template, variables);
    }
    const now = this.clock.now();
    const sid = twilioSid(mediaUrls.length > 0 ? 'MM' : 'SM');
    const resource: TwilioMessage = {
      account_sid: account.sid,
      api_version: '2010-04-01',
      body,
      date_created: rfc2822(now),
      date_sent: null,
      date_updated: rfc2822(now),
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from,
      messaging_service_sid: number.messagingServiceSid ?? serviceSid ?? null,
      num_media: String(mediaUrls.length),
      num_segments: '1',
      price: null,
      price_unit: null,
      sid,
      status: form.get('From') ? 'queued' : 'accepted',
      subresource_uris: { media: `/2010-04-01/Accounts/${account.sid}/Messages/${sid}/Media.json` },
      to,
      uri: `/2010-04-01/Accounts/${account.sid}/Messages/${sid}.json`,
    };
    this.messages.add({
      at: now,
      sid,
      params: Object.fromEntries([...new Set(form.keys())].map((k) => [k, form.getAll(k).length > 1 ? form.getAll(k) : form.get(k)!])),
      contentSid,
      mediaUrls,
      statusCallback,
      resource,
    });
    const last = this.lastInbound.get(`${to}|${from}`);
    const windowClosed = last === undefined || now - last > WINDOW;
    const forced = this.faults.take(['outside-window'], { token: account.sid, targets: [from, to], path: request.path });
    this.#runLifecycle(sid, Boolean(forced) || (windowClosed && !contentSid));
    return { status: 201, body: { ...resource } };
  }
}

export function whatsappAddress(number: string): string {
  return number.startsWith('whatsapp:') ? number : `whatsapp:${number}`;
}

function accountResource(account: TwilioAccount) {
  return {
    sid: account.sid,
    owner_account_sid: account.sid,
    friendly_name: account.friendlyName,
    status: 'active',
    type: 'Full',
    date_created: rfc2822(account.createdAt),
    date_updated: rfc2822(account.createdAt),
    uri: `/2010-04-01/Accounts/${account.sid}.json`,
    subresource_uris: { messages: `/2010-04-01/Accounts/${account.sid}/Messages.json` },
  };
}

function parseVariables(text: string | null): Record<string, string> | undefined {
  if (text === null || text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
  } catch {
    return undefined;
  }
}

function renderTemplate(template: ContentTemplate, variables: Record<string, string>): string {
  return template.body.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => variables[name] ?? template.variables[name] ?? whole);
}
