import { randomInt } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { invalid } from '../errors.ts';

/**
 * Passwords are stored as Argon2id hashes (the library's defaults follow the OWASP recommendation:
 * 19 MiB, 2 passes). Hashing takes tens of milliseconds on purpose: never do it inside a
 * database transaction.
 */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

// Argon2id is the library's default algorithm; naming it keeps the stored hashes self-describing.
const ARGON2ID = 2;

/** Throws an `invalid` error naming `field` when the password is too short or too long. */
export function checkPasswordPolicy(password: string, field = 'password'): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) throw invalid(field, `must be at least ${MIN_PASSWORD_LENGTH} characters long`);
  if (length > MAX_PASSWORD_LENGTH) throw invalid(field, `must be at most ${MAX_PASSWORD_LENGTH} characters long`);
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID });
}

/** False for a wrong password and for a stored hash that cannot be read. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the time of a real check when the account does not exist, so the answer time does not
 * tell a guesser which emails are registered.
 */
export async function spendPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword('a password nobody has, for timing only');
  await verifyPassword(await dummyHash, password);
}

// No 0/O or 1/l/I: a one-time password is read from a terminal and typed by hand.
const ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A random password to hand over once (about 111 bits), grouped for reading: xxxx-xxxx-xxxx-xxxx-xxxx. */
export function generateOneTimePassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 5; g++) {
    let group = '';
    for (let i = 0; i < 4; i++) group += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}
