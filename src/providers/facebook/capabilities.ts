import { MB } from '../options.ts';
import type { Capabilities } from '../types.ts';

/** Messenger limits (reference §1.9). */
export const facebookCapabilities: Capabilities = {
  windowHours: 24,
  humanAgentTagHours: 168,
  templatesOutsideWindow: false,
  textMaxLength: 2000,
  attachments: {
    image: { maxBytes: 8 * MB },
    video: { maxBytes: 25 * MB },
    audio: { maxBytes: 25 * MB },
    file: { maxBytes: 25 * MB },
  },
  messagesPerRequest: 1,
  sendsPerSecond: 300,
  receipts: { delivered: true, read: true },
};
