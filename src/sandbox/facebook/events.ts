/** Builders for the Messenger webhook events the emulator sends (shapes from the Messenger webhook reference). */

export type MessagingEvent = Record<string, unknown> & {
  sender: { id: string };
  recipient: { id: string };
  timestamp: number;
};

export interface Entry {
  id: string;
  time: number;
  messaging: MessagingEvent[];
}

/** Which page subscription field each event kind travels under. */
export const EVENT_FIELDS = {
  message: 'messages',
  echo: 'message_echoes',
  delivery: 'message_deliveries',
  read: 'message_reads',
  postback: 'messaging_postbacks',
} as const;
export type EventKind = keyof typeof EVENT_FIELDS;

export const DEFAULT_FIELDS: string[] = Object.values(EVENT_FIELDS);

export function pageEnvelope(entries: Entry[]): { object: 'page'; entry: Entry[] } {
  return { object: 'page', entry: entries };
}

export function entryFor(pageId: string, event: MessagingEvent): Entry {
  return { id: pageId, time: event.timestamp, messaging: [event] };
}

export function inboundMessage(psid: string, pageId: string, timestamp: number, message: Record<string, unknown>): MessagingEvent {
  return { sender: { id: psid }, recipient: { id: pageId }, timestamp, message };
}

export function echoEvent(
  pageId: string,
  psid: string,
  timestamp: number,
  input: { mid: string; appId: string; metadata?: string | undefined; message: Record<string, unknown> },
): MessagingEvent {
  const { quick_replies: _quickReplies, metadata: _metadata, ...content } = input.message;
  return {
    sender: { id: pageId },
    recipient: { id: psid },
    timestamp,
    message: {
      is_echo: true,
      app_id: /^\d{1,15}$/.test(input.appId) ? Number(input.appId) : input.appId,
      ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
      mid: input.mid,
      ...echoContent(content),
    },
  };
}

/** Echoes carry attachments as received attachments (`attachments[]`), not the send-side `attachment`. */
function echoContent(message: Record<string, unknown>): Record<string, unknown> {
  const { attachment, ...rest } = message;
  return attachment === undefined ? rest : { ...rest, attachments: [attachment] };
}

export function deliveryEvent(psid: string, pageId: string, timestamp: number, mids: string[]): MessagingEvent {
  return { sender: { id: psid }, recipient: { id: pageId }, timestamp, delivery: { mids, watermark: timestamp } };
}

export function readEvent(psid: string, pageId: string, timestamp: number): MessagingEvent {
  return { sender: { id: psid }, recipient: { id: pageId }, timestamp, read: { watermark: timestamp } };
}

export function postbackEvent(psid: string, pageId: string, timestamp: number, postback: { mid: string; title: string; payload: string }): MessagingEvent {
  return { sender: { id: psid }, recipient: { id: pageId }, timestamp, postback };
}
