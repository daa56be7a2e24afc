import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Providers fetch the files agents send by URL. Parley hands them links under PUBLIC_URL that
 * work for a limited time only: the attachment id and the expiry, signed with a key of ours.
 * Anyone holding a link can fetch the file until it expires, so links are made per delivery
 * attempt and live long enough for the provider's download, no longer.
 */
export const MEDIA_LINK_TTL_MS = 60 * 60_000;

export interface MediaLinks {
  url(attachmentId: string, nowMs?: number): string;
  /** Whether a presented link is genuine and still valid. */
  valid(attachmentId: string, expires: string | undefined, signature: string | undefined, nowMs?: number): boolean;
}

export function createMediaLinks(key: Buffer, publicUrl: string, ttlMs = MEDIA_LINK_TTL_MS): MediaLinks {
  const sign = (id: string, expires: string) => createHmac('sha256', key).update(`media:${id}:${expires}`).digest('base64url');
  return {
    url(attachmentId, nowMs = Date.now()) {
      const expires = String(Math.floor((nowMs + ttlMs) / 1000));
      return `${publicUrl}/media/${attachmentId}?expires=${expires}&signature=${sign(attachmentId, expires)}`;
    },
    valid(attachmentId, expires, signature, nowMs = Date.now()) {
      if (!expires || !signature || !/^\d{1,12}$/.test(expires)) return false;
      if (Number(expires) * 1000 < nowMs) return false;
      const expected = Buffer.from(sign(attachmentId, expires));
      const given = Buffer.from(signature);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}
