import { createHash, randomBytes } from 'node:crypto';

/**
 * Session ids and API tokens are random 256-bit secrets. Only their SHA-256 is stored: a stolen
 * database copy opens no session. (A slow hash is not needed: they are not guessable like passwords.)
 */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
