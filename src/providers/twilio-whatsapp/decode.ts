import type { InboundContent, InboundEvent, MediaRef, RawWebhook, StatusEvent } from '../types.ts';
import { digestKey, finite } from '../values.ts';
import { bareNumber } from './address.ts';
import { ASYNC_ERROR_TEXT } from './status-errors.ts';

/**
 * Twilio webhooks are form posts (or GETs with the same parameters in the query): an inbound
 * message, or a status callback for one of ours. Twilio sends no event time, so the time of
 * decoding stands in for it; status callbacks may arrive out of order and core must not move a
 * message's status backwards.
 */
export function decodeTwilio(webhook: RawWebhook): InboundEvent[] {
  const params = formOf(webhook);
  if (!params) return [invalid(webhook, 'the body is not a form')];
  const messageSid = params.get('MessageSid') ?? params.get('SmsSid');
  const from = params.get('From');
  const to = params.get('To');
  if (!messageSid || !from || !to) return [invalid(webhook, 'MessageSid, From or To is missing', Object.fromEntries(params))];
  const raw = Object.fromEntries(params);
  const status = params.get('MessageStatus');
  if (status) return [decodeStatus(params, { messageSid, status, ourNumber: bareNumber(from), customer: bareNumber(to), raw })];
  return [decodeInbound(params, { messageSid, ourNumber: bareNumber(to), customer: bareNumber(from), raw })];
}

function formOf(webhook: RawWebhook): URLSearchParams | undefined {
  if (webhook.method.toUpperCase() === 'GET') {
    try {
      return new URL(webhook.url).searchParams;
    } catch {
      return undefined;
    }
  }
  const body = webhook.body.toString('utf8');
  // JSON or other bodies would still "parse" as one odd form field; refuse them plainly.
  if (!body.includes('=') || /^\s*[[{<]/.test(body)) return undefined;
  return new URLSearchParams(body);
}

const FINAL_FAILURES = new Set(['undelivered', 'failed', 'canceled']);
const TRACKED: Record<string, StatusEvent['status']> = { sent: 'sent', delivered: 'delivered', read: 'read' };

function decodeStatus(
  params: URLSearchParams,
  event: { messageSid: string; status: string; ourNumber: string; customer: string; raw: Record<string, string> },
): InboundEvent {
  const key = `status:${event.messageSid}:${event.status}`;
  const common = { key, channelRef: event.ourNumber, timestamp: Date.now(), raw: event.raw, customerId: event.customer };
  const mapped = FINAL_FAILURES.has(event.status) ? 'failed' : TRACKED[event.status];
  // queued, accepted, sending, scheduled: steps before the provider handed the message over.
  if (!mapped) return { type: 'unsupported', ...common, reason: `status "${event.status}" is not tracked` };
  const code = params.get('ErrorCode');
  const error = code
    ? { code, message: params.get('ErrorMessage') ?? params.get('ChannelStatusMessage') ?? ASYNC_ERROR_TEXT[code] ?? `Twilio error ${code}` }
    : undefined;
  return { type: 'status', ...common, status: mapped, providerMessageId: event.messageSid, ...(error ? { error } : {}) };
}

const MESSAGE_TYPE_KINDS: Record<string, MediaRef['kind']> = { image: 'image', video: 'video', audio: 'audio', document: 'file', sticker: 'sticker' };

function mediaKind(messageType: string | null, contentType: string | undefined): MediaRef['kind'] {
  const byType = messageType ? MESSAGE_TYPE_KINDS[messageType] : undefined;
  if (byType) return byType;
  const family = contentType?.split('/')[0];
  return family === 'image' || family === 'video' || family === 'audio' ? family : 'file';
}

function decodeInbound(
  params: URLSearchParams,
  event: { messageSid: string; ourNumber: string; customer: string; raw: Record<string, string> },
): InboundEvent {
  const content: InboundContent = { attachments: [] };
  const messageType = params.get('MessageType');
  const body = params.get('Body');
  if (body) content.text = body;
  const count = Math.min(finite(params.get('NumMedia')) ?? 0, 10);
  for (let index = 0; index < count; index++) {
    const url = params.get(`MediaUrl${index}`);
    if (!url) continue;
    const contentType = params.get(`MediaContentType${index}`) ?? undefined;
    content.attachments.push({ kind: mediaKind(messageType, contentType), url, ...(contentType ? { contentType } : {}) });
  }
  const latitude = finite(params.get('Latitude'));
  const longitude = finite(params.get('Longitude'));
  if (latitude !== undefined && longitude !== undefined) {
    const title = params.get('Label');
    const address = params.get('Address');
    content.location = { latitude, longitude, ...(title ? { title } : {}), ...(address ? { address } : {}) };
  }
  const buttonPayload = params.get('ButtonPayload');
  if (buttonPayload) {
    const title = params.get('ButtonText');
    content.payload = { type: 'button', value: buttonPayload, ...(title ? { title } : {}) };
  }
  const replyTo = params.get('OriginalRepliedMessageSid');
  if (replyTo) content.replyTo = replyTo;
  const common = { key: event.messageSid, channelRef: event.ourNumber, timestamp: Date.now(), raw: event.raw, customerId: event.customer };
  if (!content.text && !content.attachments.length && !content.location && !content.payload) {
    return { type: 'unsupported', ...common, reason: `message type "${messageType ?? 'unknown'}" has no content Parley understands` };
  }
  const customerName = params.get('ProfileName');
  return { type: 'message', ...common, providerMessageId: event.messageSid, content, ...(customerName ? { customerName } : {}) };
}

function invalid(webhook: RawWebhook, reason: string, raw: unknown = webhook.body.toString('utf8')): InboundEvent {
  return { type: 'unsupported', key: digestKey('twilio:invalid', webhook.url + '\n' + webhook.body.toString('utf8')), channelRef: '', timestamp: Date.now(), raw, reason };
}
