/**
 * The adapter contract: the only surface through which the rest of Parley speaks to a provider.
 * An adapter translates and calls out; it never touches the database or the domain. Core code
 * holds a registry of adapters and never imports one by name.
 */

export type ProviderId = 'facebook' | 'twilio-whatsapp' | 'line';

/** Where each provider's APIs live: the real hosts by default, the sandbox in tests and demos. */
export interface ProviderEndpoints {
  facebookGraph: string; // https://graph.facebook.com
  facebookGraphVersion: string; // v25.0
  twilioApi: string; // https://api.twilio.com
  lineApi: string; // https://api.line.me
  lineData: string; // https://api-data.line.me
}

/** The credentials of one channel instance, decrypted only for the call that needs them. */
export interface FacebookCredentials {
  appId: string;
  appSecret: string;
  pageId: string;
  pageAccessToken: string;
}
export interface TwilioCredentials {
  accountSid: string;
  authToken: string;
  /** The WhatsApp sender in E.164 with a leading +. */
  number: string;
}
export interface LineCredentials {
  channelId: string;
  channelSecret: string;
  channelAccessToken: string;
}
export type Credentials<P extends ProviderId> = P extends 'facebook'
  ? FacebookCredentials
  : P extends 'twilio-whatsapp'
    ? TwilioCredentials
    : LineCredentials;

/** A webhook as it arrived: the exact bytes, and the URL the provider called (public form). */
export interface RawWebhook {
  method: string;
  /** Full URL as the provider requested it, e.g. https://parley.example.com/webhooks/twilio/abc?x=1 */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface HandshakeResult {
  status: number;
  body: string;
}

/** What the provider expects back once a webhook is stored (Twilio wants TwiML). */
export interface WebhookAck {
  status: number;
  contentType: string;
  body: string;
}

// ---------------------------------------------------------------------------------------------
// Inbound events: provider-neutral. `key` is unique per provider event and makes redeliveries
// and duplicates no-ops; `order` is the provider's timestamp for ordering per customer.

export type MediaKind = 'image' | 'video' | 'audio' | 'file' | 'sticker';

/** Where to fetch an attachment from the provider (passed back to `fetchMedia`). */
export interface MediaRef {
  kind: MediaKind;
  /** A URL to download (Facebook CDN, Twilio media URL) ... */
  url?: string;
  /** ... or a provider content id (LINE message id). */
  contentId?: string;
  contentType?: string;
  fileName?: string;
  size?: number;
}

export interface InboundContent {
  text?: string;
  attachments: MediaRef[];
  location?: { latitude: number; longitude: number; title?: string; address?: string };
  sticker?: { packageId?: string; stickerId: string; url?: string };
  /** A quick reply, postback or template button the customer tapped. */
  payload?: { type: 'quick_reply' | 'postback' | 'button'; value: string; title?: string };
  /** The provider id of the message this one replies to (quotes). */
  replyTo?: string;
}

interface EventBase {
  /** Unique per provider event: the idempotency key of the inbox. */
  key: string;
  /** Our side of the conversation: Facebook page id, WhatsApp number (+E.164), LINE bot user id / channel. */
  channelRef: string;
  /** Provider timestamp (ms since epoch): events of one customer are applied in this order. */
  timestamp: number;
  raw: unknown;
}

/** A customer wrote (or tapped something). */
export interface MessageEvent extends EventBase {
  type: 'message';
  customerId: string;
  providerMessageId: string;
  content: InboundContent;
  /** Display name when the webhook carries it (Twilio ProfileName). */
  customerName?: string;
  /** LINE: a single-use token to reply for free. */
  replyToken?: string;
  /** Facebook standby / LINE standby: another app owns the thread; read-only for us. */
  standby?: boolean;
}

/** A message our page/number sent from somewhere (e.g. the Facebook Page inbox). */
export interface EchoEvent extends EventBase {
  type: 'echo';
  customerId: string;
  providerMessageId: string;
  content: InboundContent;
  /** The app that sent it; our own echoes are recognised by app id or metadata. */
  appId?: string;
  metadata?: string;
}

/** Delivery state of our outbound messages. */
export interface StatusEvent extends EventBase {
  type: 'status';
  customerId: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  /** Status of one message ... */
  providerMessageId?: string;
  /** ... or of every message sent before this time (Facebook watermarks). */
  watermark?: number;
  error?: ProviderErrorInfo;
}

/** The customer followed, unfollowed, blocked... (LINE follow/unfollow, Facebook opt-ins). */
export interface LifecycleEvent extends EventBase {
  type: 'lifecycle';
  customerId: string;
  change: 'follow' | 'unfollow';
  replyToken?: string;
}

/** Anything we do not understand: kept with its raw payload, never blocking the channel. */
export interface UnsupportedEvent extends EventBase {
  type: 'unsupported';
  customerId?: string;
  reason: string;
}

export type InboundEvent = MessageEvent | EchoEvent | StatusEvent | LifecycleEvent | UnsupportedEvent;

// ---------------------------------------------------------------------------------------------
// Outbound

export interface OutboundAttachment {
  kind: 'image' | 'video' | 'audio' | 'file';
  /** A URL the provider can fetch (Parley serves signed, time-limited URLs). */
  url: string;
  contentType: string;
  fileName?: string;
  size?: number;
  /** LINE needs a preview image for images and videos. */
  previewUrl?: string;
  /** LINE requires an audio message's length (ms). */
  durationMs?: number;
}

export interface OutboundMessage {
  /** Provider id of the customer (PSID, +E.164, LINE user id). */
  to: string;
  text?: string;
  attachments?: OutboundAttachment[];
  /** An approved template (WhatsApp outside the 24 h window). */
  template?: { providerTemplateId: string; variables: Record<string, string> };
  /** Facebook: how the window allows this message (RESPONSE inside 24 h; HUMAN_AGENT tag up to 7 days). */
  facebookMode?: 'RESPONSE' | 'UPDATE' | 'HUMAN_AGENT';
  /** LINE: reply for free with this token if still valid (the adapter falls back to push). */
  replyToken?: string;
  /** Stable per message: providers that support it use it to make retries safe (LINE X-Line-Retry-Key). */
  idempotencyKey: string;
  /** Twilio: where status callbacks go. */
  statusCallbackUrl?: string;
  /** Facebook: echoed back in message_echoes so our own echoes are recognised. */
  metadata?: string;
}

export interface SendResult {
  /** Provider ids of what was sent (one per provider message; LINE/Twilio may split). */
  providerMessageIds: string[];
  /** LINE: whether the reply token was used (false: pushed). */
  usedReplyToken?: boolean;
}

export type DeliveryErrorClass =
  | 'auth' // token invalid/expired, credentials refused: the channel needs attention
  | 'window_closed' // outside the provider's messaging window
  | 'recipient_unavailable' // blocked, not reachable, unknown user
  | 'rate_limited' // back off and retry
  | 'invalid_request' // our request is wrong (too long, bad media): do not retry
  | 'thread_owned_elsewhere' // Facebook handover: another app controls the thread
  | 'transient'; // 5xx, timeouts, connection errors: retry

export interface ProviderErrorInfo {
  code: string;
  subcode?: string;
  message: string;
}

/** Every failed provider call ends as this, classified by provider codes (never by message text). */
export class ProviderError extends Error {
  override name = 'ProviderError';
  readonly provider: ProviderId;
  readonly errorClass: DeliveryErrorClass;
  readonly httpStatus?: number;
  readonly info: ProviderErrorInfo;
  /** When the provider said when to retry (Retry-After), in ms. */
  readonly retryAfterMs?: number;
  constructor(provider: ProviderId, errorClass: DeliveryErrorClass, info: ProviderErrorInfo, httpStatus?: number, retryAfterMs?: number) {
    super(`${provider} ${info.code}${info.subcode ? `/${info.subcode}` : ''}: ${info.message}`);
    this.provider = provider;
    this.errorClass = errorClass;
    this.info = info;
    this.httpStatus = httpStatus;
    this.retryAfterMs = retryAfterMs;
  }
  get retryable(): boolean {
    return this.errorClass === 'transient' || this.errorClass === 'rate_limited';
  }
}

// ---------------------------------------------------------------------------------------------
// Capabilities: what the policies (session window, limits) need to know, as data.

export interface Capabilities {
  /** Free-form messaging window after the customer's last message, or null when there is none (LINE). */
  windowHours: number | null;
  /** Facebook: a human agent may reply until this many hours with the HUMAN_AGENT tag. */
  humanAgentTagHours?: number;
  /** Outside the window, approved templates may still be sent (WhatsApp). */
  templatesOutsideWindow: boolean;
  textMaxLength: number;
  /** Accepted outbound attachment kinds and their size limits in bytes. */
  attachments: Partial<Record<OutboundAttachment['kind'], { maxBytes: number; contentTypes?: string[] }>>;
  /** Most messages in one provider request (LINE: 5). */
  messagesPerRequest: number;
  /** Sends per second per sender that the provider allows. */
  sendsPerSecond: number;
  /** LINE reply tokens: how long one stays usable. */
  replyTokenTtlMs?: number;
  receipts: { delivered: boolean; read: boolean };
}

export interface CredentialCheck {
  ok: boolean;
  /** What the provider calls the page / number / bot, when it says. */
  name?: string;
  /** Why not: the provider's code and message. */
  error?: ProviderErrorInfo & { errorClass: DeliveryErrorClass };
}

export interface ProvisionResult {
  status: 'running' | 'needs_attention';
  reason?: string;
  /** The provider's error code when it refused (e.g. Graph 190, LINE 401), for programs and support. */
  code?: string;
  /** What the admin must still do by hand (e.g. paste the Twilio inbound URL). */
  manualSteps: string[];
}

export interface FetchedMedia {
  status: 'ready';
  bytes: Buffer;
  contentType: string;
}
export interface PendingMedia {
  /** The provider is still preparing the content (LINE 202): ask again later. */
  status: 'preparing';
  retryAfterMs: number;
}

export interface CustomerProfile {
  displayName?: string;
  avatarUrl?: string;
  locale?: string;
}

export interface ProviderAdapter<P extends ProviderId = ProviderId> {
  readonly provider: P;
  readonly capabilities: Capabilities;

  /** Answers the provider's GET verification (Facebook hub.challenge); undefined when the provider has none. */
  handshake?(query: URLSearchParams, expectedVerifyToken: string): HandshakeResult;
  /** Checks the webhook signature on the exact bytes, in constant time. */
  verify(webhook: RawWebhook, credentials: Credentials<P>): boolean;
  /** Splits a verified webhook into events; unknown kinds become 'unsupported', never an exception. */
  decode(webhook: RawWebhook): InboundEvent[];
  /** The 2xx answer once the webhook is stored. */
  ack(): WebhookAck;

  checkCredentials(credentials: Credentials<P>): Promise<CredentialCheck>;
  /** Does the provider-side wiring it can (subscribe the app, set the webhook endpoint). */
  provision(credentials: Credentials<P>, webhook: { callbackUrl: string; statusCallbackUrl?: string }): Promise<ProvisionResult>;

  send(message: OutboundMessage, credentials: Credentials<P>): Promise<SendResult>;
  fetchMedia(ref: MediaRef, credentials: Credentials<P>): Promise<FetchedMedia | PendingMedia>;
  fetchProfile(customerId: string, credentials: Credentials<P>): Promise<CustomerProfile | null>;

  /** Facebook handover protocol: makes this app the controller of the customer's thread. */
  takeThreadControl?(customerId: string, credentials: Credentials<P>): Promise<void>;
  /** Facebook handover protocol: hands the customer's thread to another app. */
  passThreadControl?(customerId: string, targetAppId: string, credentials: Credentials<P>): Promise<void>;
}
