import type { EchoEvent, InboundContent, InboundEvent, MediaRef, RawWebhook, StatusEvent } from '../types.ts';
import { digestKey, finite, isRecord, parseJson, record, records, text, type Json } from '../values.ts';

/**
 * Messenger webhook → events. One POST may carry several entries (pages) and each entry a
 * `messaging` (we own the thread) or `standby` (another app owns it) list; every item becomes one
 * event, and anything not understood is kept as 'unsupported' rather than dropped.
 */
export function decodeFacebook(webhook: RawWebhook): InboundEvent[] {
  const payload = parseJson(webhook.body);
  if (!isRecord(payload)) return [invalid(webhook, 'the body is not a JSON object')];
  if (payload.object !== 'page') return [invalid(webhook, `object "${String(payload.object)}" is not a Messenger page webhook`, payload)];
  if (!Array.isArray(payload.entry)) return [invalid(webhook, 'the body has no entry list', payload)];
  const events: InboundEvent[] = [];
  for (const entry of payload.entry) {
    if (!isRecord(entry)) {
      events.push(unsupported('', entry, 'an entry is not an object'));
      continue;
    }
    const pageId = text(entry.id) ?? '';
    const entryTime = finite(entry.time) ?? Date.now();
    for (const item of asList(entry.messaging)) events.push(decodeItem(pageId, entryTime, item, false));
    for (const item of asList(entry.standby)) events.push(decodeItem(pageId, entryTime, item, true));
    for (const change of asList(entry.changes)) events.push(unsupported(pageId, change, `page change "${String(record(change)?.field)}" is not a messaging event`));
  }
  return events;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function decodeItem(channelRef: string, entryTime: number, item: unknown, standby: boolean): InboundEvent {
  if (!isRecord(item)) return unsupported(channelRef, item, 'a messaging item is not an object');
  const senderId = text(record(item.sender)?.id);
  const recipientId = text(record(item.recipient)?.id);
  const timestamp = finite(item.timestamp) ?? entryTime;
  if (!senderId || !recipientId) return unsupported(channelRef, item, 'sender.id or recipient.id is missing');
  const base = { channelRef, timestamp, raw: item };
  const message = record(item.message);
  if (message?.is_echo === true) return decodeEcho(base, recipientId, message, item);
  if (message) {
    const mid = text(message.mid);
    if (!mid) return unsupported(channelRef, item, 'message without mid', senderId);
    const content = messageContent(message);
    if (!hasContent(content)) return unsupported(channelRef, item, 'the message has no content Parley understands', senderId, mid);
    return { type: 'message', key: mid, ...base, customerId: senderId, providerMessageId: mid, content, ...(standby ? { standby } : {}) };
  }
  const postback = record(item.postback);
  if (postback) {
    const value = text(postback.payload) ?? '';
    const title = text(postback.title);
    // Postbacks of older pages carry no mid: the sender, time and payload identify the tap.
    const key = text(postback.mid) ?? `postback:${senderId}:${timestamp}:${value}`;
    const content: InboundContent = { attachments: [], payload: { type: 'postback', value, ...(title ? { title } : {}) }, ...(title ? { text: title } : {}) };
    return { type: 'message', key, ...base, customerId: senderId, providerMessageId: key, content, ...(standby ? { standby } : {}) };
  }
  const delivery = record(item.delivery);
  if (delivery) return receipt(base, senderId, 'delivered', delivery, item);
  const read = record(item.read);
  if (read) return receipt(base, senderId, 'read', read, item);
  const kind = Object.keys(item).find((k) => !['sender', 'recipient', 'timestamp'].includes(k)) ?? 'empty';
  return unsupported(channelRef, item, `Messenger event "${kind}" is not handled`, senderId);
}

function decodeEcho(base: { channelRef: string; timestamp: number; raw: unknown }, customerId: string, message: Json, item: Json): InboundEvent {
  const mid = text(message.mid);
  if (!mid) return unsupported(base.channelRef, item, 'echo without mid', customerId);
  const appId = text(message.app_id);
  const metadata = text(message.metadata);
  const echo: EchoEvent = {
    type: 'echo',
    key: mid,
    ...base,
    customerId,
    providerMessageId: mid,
    content: messageContent(message),
    ...(appId ? { appId } : {}),
    ...(metadata ? { metadata } : {}),
  };
  return echo;
}

function receipt(
  base: { channelRef: string; timestamp: number; raw: unknown },
  customerId: string,
  status: 'delivered' | 'read',
  body: Json,
  item: Json,
): InboundEvent {
  const watermark = finite(body.watermark);
  const prefix = status === 'read' ? 'read' : 'delivery';
  if (watermark !== undefined) {
    const event: StatusEvent = { type: 'status', key: `${prefix}:${customerId}:${watermark}`, ...base, customerId, status, watermark };
    return event;
  }
  // Without a watermark only the listed mids are known; one receipt per POST keeps one event.
  const mids = Array.isArray(body.mids) ? body.mids.map(text).filter((m): m is string => m !== undefined) : [];
  const first = mids[0];
  if (mids.length === 1 && first) return { type: 'status', key: `${prefix}:${first}`, ...base, customerId, status, providerMessageId: first };
  return unsupported(base.channelRef, item, `${prefix} receipt without a watermark`, customerId);
}

const MEDIA_TYPES: Record<string, MediaRef['kind']> = { image: 'image', video: 'video', audio: 'audio', file: 'file', reel: 'video', ig_reel: 'video' };

function messageContent(message: Json): InboundContent {
  const content: InboundContent = { attachments: [] };
  const body = text(message.text);
  if (body) content.text = body;
  const quickReply = text(record(message.quick_reply)?.payload);
  if (quickReply) content.payload = { type: 'quick_reply', value: quickReply, ...(body ? { title: body } : {}) };
  const replyTo = text(record(message.reply_to)?.mid);
  if (replyTo) content.replyTo = replyTo;
  for (const attachment of records(message.attachments)) {
    const type = text(attachment.type) ?? '';
    const payload = record(attachment.payload);
    const url = text(payload?.url);
    const stickerId = text(payload?.sticker_id) ?? text(message.sticker_id);
    if (type === 'location') {
      const coordinates = record(payload?.coordinates);
      const latitude = finite(coordinates?.lat);
      const longitude = finite(coordinates?.long);
      const title = text(attachment.title);
      if (latitude !== undefined && longitude !== undefined) content.location = { latitude, longitude, ...(title ? { title } : {}) };
    } else if (type === 'image' && stickerId) {
      content.sticker = { stickerId, ...(url ? { url } : {}) };
      if (url) content.attachments.push({ kind: 'sticker', url });
    } else if (url && MEDIA_TYPES[type]) {
      content.attachments.push({ kind: MEDIA_TYPES[type], url });
    } else if (type === 'fallback') {
      // Shared links: the URL is what the customer sent.
      const link = url ?? text(attachment.url);
      if (link && !content.text) content.text = link;
    } else if (url) {
      content.attachments.push({ kind: 'file', url });
    }
  }
  return content;
}

function hasContent(content: InboundContent): boolean {
  return Boolean(content.text || content.attachments.length || content.location || content.sticker || content.payload);
}

function unsupported(channelRef: string, item: unknown, reason: string, customerId?: string, key?: string): InboundEvent {
  const raw = item;
  return {
    type: 'unsupported',
    key: key ?? digestKey('facebook:unsupported', JSON.stringify(item) ?? String(item)),
    channelRef,
    timestamp: finite(record(item)?.timestamp) ?? Date.now(),
    raw,
    reason,
    ...(customerId ? { customerId } : {}),
  };
}

function invalid(webhook: RawWebhook, reason: string, raw: unknown = webhook.body.toString('utf8')): InboundEvent {
  return { type: 'unsupported', key: digestKey('facebook:invalid', webhook.body), channelRef: '', timestamp: Date.now(), raw, reason };
}
