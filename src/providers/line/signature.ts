import { fromBase64, headerValue, hmac, sameBytes } from '../signing.ts';
import type { LineCredentials, RawWebhook } from '../types.ts';

/** `x-line-signature`: base64 HMAC-SHA256 of the raw body with the channel secret, compared as bytes. */
export function verifyLineSignature(webhook: RawWebhook, credentials: LineCredentials): boolean {
  const header = headerValue(webhook.headers, 'x-line-signature');
  const presented = header ? fromBase64(header) : undefined;
  if (!presented || !credentials.channelSecret) return false;
  return sameBytes(hmac('sha256', credentials.channelSecret, webhook.body), presented);
}
