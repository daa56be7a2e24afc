import { ProviderError, type OutboundAttachment, type OutboundMessage } from '../types.ts';

export type LineMessage = Record<string, unknown>;

/** LINE shows the audio length from this field and requires it; without a known length a nominal minute is shown. */
const NOMINAL_AUDIO_MS = 60_000;

function refuse(message: string): ProviderError {
  return new ProviderError('line', 'invalid_request', { code: 'unsupported', message });
}

function attachmentMessage(attachment: OutboundAttachment): LineMessage {
  switch (attachment.kind) {
    case 'image':
      // The preview must be at most 1 MB; without one the image itself is the best available preview.
      return { type: 'image', originalContentUrl: attachment.url, previewImageUrl: attachment.previewUrl ?? attachment.url };
    case 'video':
      if (!attachment.previewUrl) throw refuse('a LINE video needs a preview image (previewUrl)');
      return { type: 'video', originalContentUrl: attachment.url, previewImageUrl: attachment.previewUrl };
    case 'audio':
      return { type: 'audio', originalContentUrl: attachment.url, duration: attachment.durationMs ?? NOMINAL_AUDIO_MS };
    case 'file':
      throw refuse('LINE bots cannot send files; send a link instead');
  }
}

/** Message objects in order: the text first, then one per attachment. */
export function lineMessages(message: OutboundMessage): LineMessage[] {
  if (message.template) throw refuse('LINE has no approved templates; there is no messaging window to leave');
  const messages: LineMessage[] = [];
  if (message.text) messages.push({ type: 'text', text: message.text });
  for (const attachment of message.attachments ?? []) messages.push(attachmentMessage(attachment));
  if (messages.length === 0) throw refuse('nothing to send: no text and no attachment');
  return messages;
}

/** LINE takes at most this many message objects per reply or push. */
export const MESSAGES_PER_REQUEST = 5;

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size));
  return out;
}
