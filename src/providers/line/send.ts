import { isSuccess } from '../http.ts';
import { ProviderError, type LineCredentials, type OutboundMessage, type SendResult } from '../types.ts';
import { parseJson, record, records, text } from '../values.ts';
import type { LineApi } from './api.ts';
import { lineError } from './errors.ts';
import { chunks, lineMessages, MESSAGES_PER_REQUEST, type LineMessage } from './messages.ts';
import { retryKeyFor } from './retry-key.ts';

function sentIds(body: Buffer): string[] {
  return records(record(parseJson(body))?.sentMessages)
    .map((sent) => text(sent.id))
    .filter((id): id is string => id !== undefined);
}

/**
 * Replies are free but single-use and short-lived. LINE validates a request before sending any of
 * it, so a 400 means nothing went out (spent, expired or wrong token) and the same messages can be
 * pushed without risk of a double send. Anything else (timeout, 5xx) may have been sent, so it is
 * reported, not pushed.
 */
async function reply(api: LineApi, credentials: LineCredentials, replyToken: string, messages: LineMessage[]): Promise<string[] | undefined> {
  const answer = await api(credentials, { method: 'POST', path: '/v2/bot/message/reply', json: { replyToken, messages } });
  if (isSuccess(answer)) return sentIds(answer.body);
  if (answer.status === 400) return undefined;
  throw lineError(answer);
}

/** Push with a retry key: LINE answers a repeat with 409 and the ids of the first, accepted push. */
async function push(api: LineApi, credentials: LineCredentials, to: string, messages: LineMessage[], retryKey: string): Promise<string[]> {
  const answer = await api(credentials, { method: 'POST', path: '/v2/bot/message/push', json: { to, messages }, headers: { 'x-line-retry-key': retryKey } });
  if (isSuccess(answer) || answer.status === 409) return sentIds(answer.body);
  throw lineError(answer);
}

export async function sendLine(api: LineApi, message: OutboundMessage, credentials: LineCredentials): Promise<SendResult> {
  const batches = chunks(lineMessages(message), MESSAGES_PER_REQUEST);
  const providerMessageIds: string[] = [];
  let usedReplyToken = false;
  for (const [index, batch] of batches.entries()) {
    if (index === 0 && message.replyToken) {
      const replied = await reply(api, credentials, message.replyToken, batch);
      if (replied) {
        providerMessageIds.push(...replied);
        usedReplyToken = true;
        continue;
      }
    }
    // One key per batch, stable across retries of the whole message.
    const retryKey = retryKeyFor(index === 0 ? message.idempotencyKey : `${message.idempotencyKey}#${index}`);
    providerMessageIds.push(...(await push(api, credentials, message.to, batch, retryKey)));
  }
  if (providerMessageIds.length === 0) throw new ProviderError('line', 'transient', { code: 'no_ids', message: 'LINE answered without sentMessages' });
  return { providerMessageIds, usedReplyToken };
}
