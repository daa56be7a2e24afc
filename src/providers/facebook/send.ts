import { ProviderError, type FacebookCredentials, type OutboundMessage, type SendResult } from '../types.ts';
import { record, text } from '../values.ts';
import type { Graph } from './graph.ts';

/** How the messaging window allows this message: inside 24 h RESPONSE/UPDATE, up to 7 days the HUMAN_AGENT tag. */
function messagingType(mode: OutboundMessage['facebookMode']): { messaging_type: string; tag?: string } {
  if (mode === 'HUMAN_AGENT') return { messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' };
  return { messaging_type: mode ?? 'RESPONSE' };
}

/**
 * The Send API takes text or one attachment per request, so a message with text and two files
 * becomes three requests, text first, each echoing our metadata so echoes are recognised.
 */
export function facebookRequests(message: OutboundMessage): Array<Record<string, unknown>> {
  if (message.template) {
    throw new ProviderError('facebook', 'invalid_request', { code: 'unsupported', message: 'Messenger has no approved templates; send text within the window' });
  }
  const bodies: Array<Record<string, unknown>> = [];
  if (message.text) bodies.push({ text: message.text });
  for (const attachment of message.attachments ?? []) {
    bodies.push({ attachment: { type: attachment.kind, payload: { url: attachment.url, is_reusable: false } } });
  }
  if (bodies.length === 0) throw new ProviderError('facebook', 'invalid_request', { code: 'empty', message: 'nothing to send: no text and no attachment' });
  return bodies.map((body) => ({
    recipient: { id: message.to },
    ...messagingType(message.facebookMode),
    message: { ...body, ...(message.metadata ? { metadata: message.metadata } : {}) },
  }));
}

export async function sendFacebook(graph: Graph, message: OutboundMessage, credentials: FacebookCredentials): Promise<SendResult> {
  const providerMessageIds: string[] = [];
  for (const json of facebookRequests(message)) {
    const answer = await graph({ method: 'POST', path: `/${credentials.pageId}/messages`, accessToken: credentials.pageAccessToken, json });
    const id = text(record(answer)?.message_id);
    if (!id) throw new ProviderError('facebook', 'transient', { code: 'no_message_id', message: 'the Send API answered without a message_id' });
    providerMessageIds.push(id);
  }
  return { providerMessageIds };
}
