/** Builders for LINE webhook events (field order as LINE sends them). */

export type LineSource = { type: 'user'; userId: string };

export type LineEvent = Record<string, unknown> & {
  type: string;
  webhookEventId: string;
  deliveryContext: { isRedelivery: boolean };
  timestamp: number;
  replyToken?: string;
};

export function lineEvent(
  type: string,
  content: Record<string, unknown>,
  common: { webhookEventId: string; timestamp: number; source: LineSource; replyToken?: string | undefined },
): LineEvent {
  return {
    type,
    ...content,
    webhookEventId: common.webhookEventId,
    deliveryContext: { isRedelivery: false },
    timestamp: common.timestamp,
    source: common.source,
    ...(common.replyToken !== undefined ? { replyToken: common.replyToken } : {}),
    mode: 'active',
  };
}

/** Redelivered events are identical except for `deliveryContext.isRedelivery`. */
export function asRedelivery(event: LineEvent): LineEvent {
  return { ...event, deliveryContext: { isRedelivery: true } };
}

export function webhookBody(destination: string, events: LineEvent[]): string {
  return JSON.stringify({ destination, events });
}
