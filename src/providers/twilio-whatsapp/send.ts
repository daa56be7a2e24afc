import { ProviderError, type OutboundMessage, type SendResult, type TwilioCredentials } from '../types.ts';
import { record, text } from '../values.ts';
import { whatsappAddress } from './address.ts';
import type { TwilioApi } from './api.ts';

/**
 * Messages.json forms for one outbound message. WhatsApp delivers one media item per message, so
 * each attachment is its own Twilio message and the text rides with the first as its caption. A
 * template is sent alone: outside the window nothing else would be accepted.
 */
export function twilioForms(message: OutboundMessage, credentials: TwilioCredentials): URLSearchParams[] {
  const base = (): URLSearchParams => {
    const form = new URLSearchParams({ From: whatsappAddress(credentials.number), To: whatsappAddress(message.to) });
    if (message.statusCallbackUrl) form.set('StatusCallback', message.statusCallbackUrl);
    return form;
  };
  if (message.template) {
    const form = base();
    form.set('ContentSid', message.template.providerTemplateId);
    if (Object.keys(message.template.variables).length) form.set('ContentVariables', JSON.stringify(message.template.variables));
    return [form];
  }
  const attachments = message.attachments ?? [];
  if (!message.text && attachments.length === 0) {
    throw new ProviderError('twilio-whatsapp', 'invalid_request', { code: 'empty', message: 'nothing to send: no text, attachment or template' });
  }
  if (attachments.length === 0) {
    const form = base();
    form.set('Body', message.text ?? '');
    return [form];
  }
  return attachments.map((attachment, index) => {
    const form = base();
    if (index === 0 && message.text) form.set('Body', message.text);
    form.append('MediaUrl', attachment.url);
    return form;
  });
}

export async function sendTwilio(api: TwilioApi, message: OutboundMessage, credentials: TwilioCredentials): Promise<SendResult> {
  const providerMessageIds: string[] = [];
  for (const form of twilioForms(message, credentials)) {
    const created = record(await api(credentials, { method: 'POST', path: '/Messages.json', form }));
    const sid = text(created?.sid);
    if (!sid) throw new ProviderError('twilio-whatsapp', 'transient', { code: 'no_sid', message: 'Twilio answered without a message sid' });
    providerMessageIds.push(sid);
  }
  return { providerMessageIds };
}
