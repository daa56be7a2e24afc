import { randomBytes, randomUUID } from 'node:crypto';

export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** Twilio SIDs: two-letter prefix + 32 hex digits (AC, SM, MM, ME, HX, XE, MG). */
export function twilioSid(prefix: string): string {
  return prefix + hex(16);
}

/** Messenger message ids are opaque; current ones start with `m_`. */
export function messengerMid(): string {
  return 'm_' + randomBytes(24).toString('base64url');
}

/** Page-scoped user ids and page ids are long decimal strings. */
export function numericId(digits: number): string {
  let out = String(1 + Math.floor(Math.random() * 9));
  while (out.length < digits) out += String(Math.floor(Math.random() * 10));
  return out;
}

export function fbtraceId(): string {
  return randomBytes(16).toString('base64url').slice(0, 23);
}

export function lineUserId(): string {
  return 'U' + hex(16);
}

let lineMessageCounter = 0n;
/** LINE message ids are numeric strings around 18 digits that grow over time. */
export function lineMessageId(nowMs: number): string {
  lineMessageCounter += 1n;
  return (BigInt(nowMs) * 1000n * 100n + (lineMessageCounter % 100000n)).toString();
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 26-character ULID (48-bit time + 80 random bits, Crockford base32), as LINE's webhookEventId. */
export function ulid(nowMs: number): string {
  let time = '';
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const rand = randomBytes(16);
  let tail = '';
  for (let i = 0; i < 16; i++) tail += CROCKFORD[rand[i]! % 32];
  return time + tail;
}

export function uuid(): string {
  return randomUUID();
}
