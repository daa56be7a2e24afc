import { createHmac, timingSafeEqual, type BinaryLike } from 'node:crypto';
import type { RawWebhook } from './types.ts';

/** HMAC of exact bytes: signatures are always checked on what arrived, never on a re-serialisation. */
export function hmac(algorithm: 'sha1' | 'sha256', key: string, data: BinaryLike): Buffer {
  return createHmac(algorithm, key).update(data).digest();
}

/** Constant-time comparison; a length mismatch is answered without comparing (lengths are public). */
export function sameBytes(expected: Buffer, presented: Buffer): boolean {
  return expected.length === presented.length && expected.length > 0 && timingSafeEqual(expected, presented);
}

export function sameText(expected: string, presented: string): boolean {
  return sameBytes(Buffer.from(expected, 'utf8'), Buffer.from(presented, 'utf8'));
}

/** Header lookup that ignores case (LINE warns its header's case may change) and takes the first of repeats. */
export function headerValue(headers: RawWebhook['headers'], name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') return first;
  }
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const HEX = /^[0-9a-fA-F]+$/;

export function fromBase64(value: string): Buffer | undefined {
  const trimmed = value.trim();
  return BASE64.test(trimmed) && trimmed.length % 4 === 0 ? Buffer.from(trimmed, 'base64') : undefined;
}

export function fromHex(value: string): Buffer | undefined {
  const trimmed = value.trim();
  return HEX.test(trimmed) && trimmed.length % 2 === 0 ? Buffer.from(trimmed, 'hex') : undefined;
}
