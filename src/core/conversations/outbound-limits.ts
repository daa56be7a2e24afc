import type { Capabilities, OutboundAttachment, ProviderId } from '../../providers/types.ts';
import { invalid } from '../errors.ts';

/**
 * The provider's limits, checked before a message is accepted, so an agent hears "too long for
 * WhatsApp" at once instead of seeing the message fail minutes later.
 */
export interface OutboundFile {
  kind: OutboundAttachment['kind'];
  contentType: string;
  size: number;
}

/** Most files in one message on providers that send each file as its own request. */
export const MAX_ATTACHMENTS = 10;

const PROVIDER_NAMES: Record<ProviderId, string> = { facebook: 'Messenger', 'twilio-whatsapp': 'WhatsApp', line: 'LINE' };

export function attachmentKind(contentType: string): OutboundAttachment['kind'] {
  const top = contentType.split('/')[0];
  return top === 'image' || top === 'video' || top === 'audio' ? top : 'file';
}

export function checkLimits(provider: ProviderId, capabilities: Capabilities, message: { text?: string | null; files: OutboundFile[] }): void {
  const name = PROVIDER_NAMES[provider];
  const text = message.text ?? '';
  if (text === '' && message.files.length === 0) throw invalid('text', 'write a text or attach a file');
  const length = [...text].length;
  if (length > capabilities.textMaxLength) throw invalid('text', `${name} accepts at most ${capabilities.textMaxLength} characters; this text has ${length}`);
  // LINE sends every part in one request (a reply token is single-use), so they must all fit in one
  const parts = (text ? 1 : 0) + message.files.length;
  const maxParts = capabilities.messagesPerRequest > 1 ? capabilities.messagesPerRequest : MAX_ATTACHMENTS + 1;
  if (parts > maxParts) throw invalid('attachmentIds', `${name} takes at most ${maxParts} parts (text and files) in one message; this one has ${parts}`);
  message.files.forEach((file, index) => {
    const field = `attachmentIds[${index}]`;
    const rule = capabilities.attachments[file.kind];
    if (!rule) throw invalid(field, `${name} does not accept ${file.kind} attachments`);
    if (rule.contentTypes && !rule.contentTypes.includes(file.contentType)) {
      throw invalid(field, `${name} does not accept ${file.contentType} ${file.kind}s (accepted: ${rule.contentTypes.join(', ')})`);
    }
    if (file.size > rule.maxBytes) throw invalid(field, `${name} accepts ${file.kind}s up to ${Math.floor(rule.maxBytes / 1_048_576)} MB; this one is ${(file.size / 1_048_576).toFixed(1)} MB`);
  });
}

/** `{{1}}`-style placeholders filled in; every one must be given. */
export function renderTemplate(body: string, variables: Record<string, string>): string {
  return body.replace(/\{\{\s*(\w+)\s*\}\}/g, (_whole, name: string) => {
    const value = variables[name];
    if (value === undefined || value === '') throw invalid(`template.variables.${name}`, `the template needs a value for {{${name}}}`);
    return value;
  });
}
