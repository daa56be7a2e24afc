import { createHash } from 'node:crypto';

/**
 * Lenient readers for provider payloads: providers add fields without notice and send numbers
 * where strings are documented (Meta's app_id), so decoding reads what it needs and ignores the rest.
 */
export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function record(value: unknown): Json | undefined {
  return isRecord(value) ? value : undefined;
}

export function records(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** A non-empty string, or a finite number written as a string (ids come as either). */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function finite(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

export function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A stable key for content that has no provider id: redeliveries of the same bytes dedupe. */
export function digestKey(prefix: string, content: string | Buffer): string {
  return `${prefix}:${createHash('sha256').update(content).digest('hex').slice(0, 32)}`;
}
