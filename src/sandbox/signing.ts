import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Meta signs the exact bytes it sends, with the app secret; both the SHA-256 and legacy SHA-1 headers. */
export function metaSignatureHeaders(rawBody: string | Buffer, appSecret: string): {
  'x-hub-signature-256': string;
  'x-hub-signature': string;
} {
  return {
    'x-hub-signature-256': 'sha256=' + createHmac('sha256', appSecret).update(rawBody).digest('hex'),
    'x-hub-signature': 'sha1=' + createHmac('sha1', appSecret).update(rawBody).digest('hex'),
  };
}

/**
 * Twilio signs the full URL it calls followed by every POST parameter (sorted by name, decoded
 * values, repeated names contributing each distinct value in sorted order).
 */
export function twilioSignature(authToken: string, url: string, params: Iterable<[string, string]>): string {
  const grouped = new Map<string, Set<string>>();
  for (const [name, value] of params) {
    let values = grouped.get(name);
    if (!values) grouped.set(name, (values = new Set()));
    values.add(value);
  }
  let data = url;
  for (const name of [...grouped.keys()].sort(compareCodeUnits)) {
    for (const value of [...grouped.get(name)!].sort(compareCodeUnits)) data += name + value;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** LINE: base64 HMAC-SHA256 of the raw body with the channel secret. */
export function lineSignature(rawBody: string | Buffer, channelSecret: string): string {
  return createHmac('sha256', channelSecret).update(rawBody).digest('base64');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Constant-time comparison of two strings that tolerates different lengths. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
