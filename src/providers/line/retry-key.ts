import { createHash } from 'node:crypto';

/** Fixed namespace for Parley's LINE retry keys (a random UUID chosen once). */
const NAMESPACE = Buffer.from('6f1d0c3a9b2e4f7a8c5d1e0f2a3b4c5d', 'hex');

/**
 * `X-Line-Retry-Key` must be a UUID and must be the same on every retry of one push, so it is a
 * name-based UUID (version 5, RFC 9562) of the message's idempotency key: a retry after a crash
 * or a timeout sends the same key and LINE answers 409 instead of delivering twice.
 */
export function retryKeyFor(idempotencyKey: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(idempotencyKey, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
