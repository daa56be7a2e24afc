import type { InboundContent, InboundEvent, MediaRef, RawWebhook } from '../types.ts';
import { digestKey, finite, isRecord, parseJson, record, text, type Json } from '../values.ts';

/**
 * LINE webhook → events, keyed by webhookEventId (unchanged on redelivery). An empty events list
 * is LINE checking the endpoint and yields nothing. Group and room chats are not customer
 * conversations and stay unsupported.
 */
export function decodeLine(webhook: RawWebhook): InboundEvent[] {
  const payload = parseJson(webhook.body);
  if (!isRecord(payload) || !Array.isArray(payload.events)) {
    return [{ type: 'unsupported', key: digestKey('line:invalid', webhook.body), channelRef: '', timestamp: Date.now(), raw: webhook.body.toString('utf8'), reason: 'the body is not a LINE webhook (no events list)' }];
  }
  const channelRef = text(payload.destination) ?? '';
  return payload.events.map((event) => decodeEvent(channelRef, event));
}

function decodeEvent(channelRef: string, event: unknown): InboundEvent {
  if (!isRecord(event)) return unsupported(channelRef, event, 'an event is not an object');
  const key = text(event.webhookEventId);
  const timestamp = finite(event.timestamp) ?? Date.now();
  const source = record(event.source);
  const customerId = text(source?.userId);
  if (!key) return unsupported(channelRef, event, 'the event has no webhookEventId', customerId);
  if (source?.type !== 'user' || !customerId) return unsupported(channelRef, event, `events from a ${String(source?.type)} chat are not handled`, customerId, key);
  const replyToken = text(event.replyToken);
  const base = { key, channelRef, timestamp, raw: event, customerId };
  const standby = event.mode === 'standby' ? { standby: true } : {};
  switch (event.type) {
    case 'message': {
      const message = record(event.message);
      const id = text(message?.id);
      const content = message ? messageContent(message) : undefined;
      if (!id || !content) return unsupported(channelRef, event, `message type "${String(message?.type)}" is not handled`, customerId, key);
      return { type: 'message', ...base, providerMessageId: id, content, ...(replyToken ? { replyToken } : {}), ...standby };
    }
    case 'postback': {
      const data = text(record(event.postback)?.data) ?? '';
      // A postback is a tap, not a message: its event id is the only id it has.
      return { type: 'message', ...base, providerMessageId: key, content: { attachments: [], payload: { type: 'postback', value: data } }, ...(replyToken ? { replyToken } : {}), ...standby };
    }
    case 'follow':
      return { type: 'lifecycle', ...base, change: 'follow', ...(replyToken ? { replyToken } : {}) };
    case 'unfollow':
      return { type: 'lifecycle', ...base, change: 'unfollow' };
    default:
      return unsupported(channelRef, event, `LINE event "${String(event.type)}" is not handled`, customerId, key);
  }
}

const MEDIA: Record<string, MediaRef['kind']> = { image: 'image', video: 'video', audio: 'audio', file: 'file' };

function messageContent(message: Json): InboundContent | undefined {
  const type = text(message.type) ?? '';
  const id = text(message.id)!;
  const content: InboundContent = { attachments: [] };
  const quoted = text(message.quotedMessageId);
  if (quoted) content.replyTo = quoted;
  if (type === 'text') {
    content.text = text(message.text) ?? '';
    return content;
  }
  const kind = MEDIA[type];
  if (kind) {
    const provider = record(message.contentProvider);
    // External content is fetched from its own URL; LINE-hosted content by message id.
    const external = provider?.type === 'external' ? text(provider.originalContentUrl) : undefined;
    const fileName = text(message.fileName);
    const size = finite(message.fileSize);
    content.attachments.push({ kind, ...(external ? { url: external } : { contentId: id }), ...(fileName ? { fileName } : {}), ...(size !== undefined ? { size } : {}) });
    return content;
  }
  if (type === 'location') {
    const latitude = finite(message.latitude);
    const longitude = finite(message.longitude);
    if (latitude === undefined || longitude === undefined) return undefined;
    const title = text(message.title);
    const address = text(message.address);
    content.location = { latitude, longitude, ...(title ? { title } : {}), ...(address ? { address } : {}) };
    return content;
  }
  if (type === 'sticker') {
    const stickerId = text(message.stickerId);
    if (!stickerId) return undefined;
    const packageId = text(message.packageId);
    content.sticker = { stickerId, ...(packageId ? { packageId } : {}) };
    return content;
  }
  return undefined;
}

function unsupported(channelRef: string, event: unknown, reason: string, customerId?: string, key?: string): InboundEvent {
  return {
    type: 'unsupported',
    key: key ?? digestKey('line:unsupported', JSON.stringify(event) ?? String(event)),
    channelRef,
    timestamp: finite(record(event)?.timestamp) ?? Date.now(),
    raw: event,
    reason,
    ...(customerId ? { customerId } : {}),
  };
}
