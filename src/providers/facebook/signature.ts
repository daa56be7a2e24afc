import { fromHex, headerValue, hmac, sameBytes, sameText } from '../signing.ts';
import type { FacebookCredentials, HandshakeResult, RawWebhook } from '../types.ts';

/**
 * `X-Hub-Signature-256` only. Meta sends it with every webhook next to the legacy SHA-1
 * `X-Hub-Signature`; accepting SHA-1 alone would add a weaker path that no genuine request needs,
 * so a request without the SHA-256 header is refused.
 */
export function verifyFacebookSignature(webhook: RawWebhook, credentials: FacebookCredentials): boolean {
  const header = headerValue(webhook.headers, 'x-hub-signature-256');
  if (!header || !credentials.appSecret) return false;
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  const presented = match?.[1] ? fromHex(match[1]) : undefined;
  if (!presented) return false;
  return sameBytes(hmac('sha256', credentials.appSecret, webhook.body), presented);
}

/** The GET Meta sends when the callback URL is configured: echo the challenge only to the right token. */
export function facebookHandshake(query: URLSearchParams, expectedVerifyToken: string): HandshakeResult {
  const challenge = query.get('hub.challenge');
  const token = query.get('hub.verify_token') ?? '';
  if (query.get('hub.mode') === 'subscribe' && challenge !== null && expectedVerifyToken !== '' && sameText(expectedVerifyToken, token)) {
    return { status: 200, body: challenge };
  }
  return { status: 403, body: 'Forbidden' };
}
