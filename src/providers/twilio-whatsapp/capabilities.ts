import { MB } from '../options.ts';
import type { Capabilities } from '../types.ts';

/** WhatsApp through Twilio (reference §2.5). */
export const twilioCapabilities: Capabilities = {
  windowHours: 24,
  templatesOutsideWindow: true,
  textMaxLength: 1600,
  attachments: {
    image: { maxBytes: 5 * MB, contentTypes: ['image/jpeg', 'image/png', 'image/webp'] },
    audio: { maxBytes: 16 * MB, contentTypes: ['audio/ogg', 'audio/amr', 'audio/3gpp', 'audio/aac', 'audio/mpeg'] },
    video: { maxBytes: 16 * MB, contentTypes: ['video/mp4'] },
    file: {
      maxBytes: 16 * MB,
      contentTypes: [
        'application/pdf',
        'application/msword',
        'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        'application/vnd.openxmlformats-officedocument.presentationml.presentation',
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        'text/vcard',
      ],
    },
  },
  messagesPerRequest: 1,
  sendsPerSecond: 80,
  receipts: { delivered: true, read: true },
};
