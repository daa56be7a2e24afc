import { MB } from '../options.ts';
import type { Capabilities } from '../types.ts';
import { MESSAGES_PER_REQUEST } from './messages.ts';

/** LINE Messaging API (reference §3.3, §3.5): no window, no delivery or read receipts for bots. */
export const lineCapabilities: Capabilities = {
  windowHours: null,
  templatesOutsideWindow: false,
  textMaxLength: 5000,
  attachments: {
    image: { maxBytes: 10 * MB, contentTypes: ['image/jpeg', 'image/png'] },
    video: { maxBytes: 200 * MB, contentTypes: ['video/mp4'] },
    audio: { maxBytes: 200 * MB, contentTypes: ['audio/mp4', 'audio/x-m4a', 'audio/mpeg'] },
  },
  messagesPerRequest: MESSAGES_PER_REQUEST,
  sendsPerSecond: 2000,
  replyTokenTtlMs: 60_000,
  receipts: { delivered: false, read: false },
};
