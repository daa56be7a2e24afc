import type { FastifyInstance } from 'fastify';
import { TEST_API } from './emulator.ts';
import type { FacebookEmulator } from './facebook/emulator.ts';
import { isRecord, jsonObjectOf } from './http.ts';
import type { LineEmulator } from './line/emulator.ts';
import type { TwilioEmulator } from './twilio/emulator.ts';
import type { WebhookDelivery } from './webhook-delivery.ts';

export type CustomerChannel = 'facebook' | 'whatsapp' | 'line';

export type CustomerAttachment =
  | { kind: 'image' | 'video' | 'audio' | 'file'; data?: Buffer; contentType?: string; fileName?: string }
  | { kind: 'location'; latitude: number; longitude: number; title?: string; address?: string }
  | { kind: 'sticker'; id?: string; packageId?: string };

export interface SayInput {
  channel: CustomerChannel;
  /** Facebook page id, our WhatsApp number, or the LINE channel id / bot user id. */
  to: string;
  /** PSID, the customer's WhatsApp number, or the LINE user id. */
  from: string;
  text?: string;
  attachment?: CustomerAttachment;
  /** Tapped a quick reply: Facebook `quick_reply.payload`, WhatsApp button payload, LINE postback data. */
  quickReply?: { text: string; payload: string };
  /** Tapped a button: Facebook postback, LINE postback (WhatsApp: a button reply). */
  postback?: { title?: string; payload: string };
  /** Replying to an earlier message (mid / MessageSid / LINE message id). */
  replyTo?: string;
  /** WhatsApp profile name. */
  profileName?: string;
}

export interface SayResult {
  channel: CustomerChannel;
  /** Provider id of the customer's message (mid, MessageSid, LINE message id or webhookEventId). */
  messageId: string;
  replyToken?: string | undefined;
  mediaUrl?: string | undefined;
  /** The webhook URL called and the exact body and headers of the first attempt. */
  url?: string | undefined;
  body?: string | undefined;
  headers?: Record<string, string> | undefined;
  /** Status Parley answered with on the last attempt (absent on timeout or connection failure). */
  status?: number | undefined;
  delivered: boolean;
  deliveries: WebhookDelivery[];
  /** Why nothing was sent (no webhook configured, page not subscribed, ...). */
  skipped?: string | undefined;
}

/** A simulated customer writing through each provider, producing webhooks exactly as the provider would. */
export class Customer {
  readonly #facebook: FacebookEmulator;
  readonly #twilio: TwilioEmulator;
  readonly #line: LineEmulator;

  constructor(emulators: { facebook: FacebookEmulator; twilio: TwilioEmulator; line: LineEmulator }) {
    this.#facebook = emulators.facebook;
    this.#twilio = emulators.twilio;
    this.#line = emulators.line;
  }

  async say(input: SayInput): Promise<SayResult> {
    switch (input.channel) {
      case 'facebook': {
        const a = input.attachment;
        const result = await this.#facebook.receive({
          pageId: input.to,
          psid: input.from,
          text: input.text ?? (input.quickReply ? input.quickReply.text : undefined),
          attachment:
            a === undefined
              ? undefined
              : a.kind === 'location'
                ? a
                : a.kind === 'sticker'
                  ? { kind: 'sticker', stickerId: a.id }
                  : { kind: a.kind, bytes: a.data, contentType: a.contentType, fileName: a.fileName },
          quickReplyPayload: input.quickReply?.payload,
          postback: input.postback ? { title: input.postback.title ?? input.postback.payload, payload: input.postback.payload } : undefined,
          replyToMid: input.replyTo,
        });
        return summarize('facebook', result.mid, result.deliveries, { mediaUrl: result.mediaUrl, skipped: result.skipped });
      }
      case 'whatsapp': {
        const a = input.attachment;
        const tapped = input.quickReply ?? (input.postback ? { text: input.postback.title ?? input.postback.payload, payload: input.postback.payload } : undefined);
        const result = await this.#twilio.receive({
          to: input.to,
          from: input.from,
          text: input.text,
          profileName: input.profileName,
          attachment:
            a === undefined
              ? undefined
              : a.kind === 'location'
                ? a
                : a.kind === 'sticker'
                  ? { kind: 'sticker' }
                  : { kind: a.kind, bytes: a.data, contentType: a.contentType, fileName: a.fileName },
          button: tapped,
          replyToSid: input.replyTo,
        });
        return summarize('whatsapp', result.messageSid, result.deliveries, { mediaUrl: result.mediaUrl, skipped: result.skipped });
      }
      case 'line': {
        const a = input.attachment;
        const data = input.postback?.payload ?? input.quickReply?.payload;
        const result = await this.#line.receive({
          channel: input.to,
          userId: input.from,
          event: data !== undefined && input.text === undefined ? 'postback' : 'message',
          text: input.text,
          attachment:
            a === undefined
              ? undefined
              : a.kind === 'location'
                ? a
                : a.kind === 'sticker'
                  ? { kind: 'sticker', stickerId: a.id, packageId: a.packageId }
                  : { kind: a.kind, bytes: a.data, contentType: a.contentType, fileName: a.fileName },
          postback: data !== undefined ? { data } : undefined,
          quotedMessageId: input.replyTo,
        });
        const mediaUrl = result.messageId && this.#line.contents.has(result.messageId) ? `${this.#line.dataBaseUrl}/v2/bot/message/${result.messageId}/content` : undefined;
        return summarize('line', result.messageId ?? result.event.webhookEventId, result.deliveries, {
          replyToken: result.replyToken,
          mediaUrl,
          skipped: result.skipped,
        });
      }
    }
  }

  /** LINE follow/unfollow (adding or blocking the official account). */
  async lineFollow(channel: string, userId: string, follow = true): Promise<SayResult> {
    const result = await this.#line.receive({ channel, userId, event: follow ? 'follow' : 'unfollow' });
    return summarize('line', result.event.webhookEventId, result.deliveries, { replyToken: result.replyToken, skipped: result.skipped });
  }
}

function summarize(
  channel: CustomerChannel,
  messageId: string,
  deliveries: WebhookDelivery[],
  extra: { replyToken?: string | undefined; mediaUrl?: string | undefined; skipped?: string | undefined },
): SayResult {
  const first = deliveries[0];
  const firstAttempt = first?.attempts[0];
  return {
    channel,
    messageId,
    ...extra,
    url: first?.url,
    body: firstAttempt?.body,
    headers: firstAttempt?.headers,
    status: first?.attempts.at(-1)?.status,
    delivered: first?.ok ?? false,
    deliveries,
  };
}

const CHANNELS: CustomerChannel[] = ['facebook', 'whatsapp', 'line'];
const KINDS = ['image', 'video', 'audio', 'file', 'location', 'sticker'];

/** `POST /_sandbox/say`: the customer over HTTP (used by `parley sandbox say`); media arrives as base64. */
export function registerCustomerRoute(app: FastifyInstance, customer: Customer): void {
  app.post(`${TEST_API}/say`, async (request, reply) => {
    const body = jsonObjectOf(request);
    const problem = sayProblem(body);
    if (problem) return reply.code(400).send({ error: problem });
    const input: SayInput = { channel: body.channel as CustomerChannel, to: String(body.to), from: String(body.from) };
    if (typeof body.text === 'string') input.text = body.text;
    if (typeof body.profileName === 'string') input.profileName = body.profileName;
    if (typeof body.replyTo === 'string') input.replyTo = body.replyTo;
    if (isRecord(body.quickReply)) input.quickReply = { text: String(body.quickReply.text ?? ''), payload: String(body.quickReply.payload ?? '') };
    if (isRecord(body.postback)) input.postback = { payload: String(body.postback.payload ?? ''), ...(typeof body.postback.title === 'string' ? { title: body.postback.title } : {}) };
    if (isRecord(body.attachment)) input.attachment = attachmentFrom(body.attachment);
    try {
      return await customer.say(input);
    } catch (error) {
      return reply.code(404).send({ error: (error as Error).message });
    }
  });
}

function sayProblem(body: Record<string, unknown>): string | undefined {
  if (!CHANNELS.includes(body.channel as CustomerChannel)) return 'channel must be facebook, whatsapp or line';
  if (typeof body.to !== 'string' || typeof body.from !== 'string') return 'to and from (strings) are required';
  if (body.attachment !== undefined) {
    if (!isRecord(body.attachment) || !KINDS.includes(String(body.attachment.kind))) return `attachment.kind must be one of ${KINDS.join(', ')}`;
    if (body.attachment.kind === 'location' && (typeof body.attachment.latitude !== 'number' || typeof body.attachment.longitude !== 'number')) {
      return 'a location needs latitude and longitude (numbers)';
    }
  }
  if (body.text === undefined && body.attachment === undefined && body.postback === undefined && body.quickReply === undefined) {
    return 'say something: text, attachment, quickReply or postback';
  }
  return undefined;
}

function attachmentFrom(a: Record<string, unknown>): CustomerAttachment {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  if (a.kind === 'location') {
    return { kind: 'location', latitude: Number(a.latitude), longitude: Number(a.longitude), ...(str(a.title) ? { title: str(a.title)! } : {}), ...(str(a.address) ? { address: str(a.address)! } : {}) };
  }
  if (a.kind === 'sticker') return { kind: 'sticker', ...(str(a.id) ? { id: str(a.id)! } : {}), ...(str(a.packageId) ? { packageId: str(a.packageId)! } : {}) };
  return {
    kind: a.kind as 'image' | 'video' | 'audio' | 'file',
    ...(str(a.dataBase64) ? { data: Buffer.from(str(a.dataBase64)!, 'base64') } : {}),
    ...(str(a.contentType) ? { contentType: str(a.contentType)! } : {}),
    ...(str(a.fileName) ? { fileName: str(a.fileName)! } : {}),
  };
}
