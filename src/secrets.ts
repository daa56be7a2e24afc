import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Encryption of secrets at rest (provider tokens, app secrets): AES-256-GCM with a random IV.
 * Each ciphertext carries the id of the key that sealed it, so keys can be rotated: the first
 * key seals, every key opens, and `needsRotation` tells which values to re-seal.
 * Format: `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts).
 */
export class SecretKeyError extends Error {
  override name = 'SecretKeyError';
}

interface Key {
  id: string;
  bytes: Buffer;
}

export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
  needsRotation(sealed: string): boolean;
  /** The id of the key that seals new values. */
  readonly keyId: string;
  /** A key for one purpose (e.g. signing media links), derived from the primary key so no other secret is needed. */
  derive(purpose: string): Buffer;
}

function parseKey(text: string): Key {
  const bytes = Buffer.from(text.trim(), 'base64');
  if (bytes.length !== 32) {
    throw new SecretKeyError('invalid PARLEY_SECRET_KEY: expected one or more comma-separated keys, each 32 bytes in base64 (openssl rand -base64 32)');
  }
  return { id: createHash('sha256').update(bytes).digest('base64url').slice(0, 8), bytes };
}

export function createSecretBox(keysText: string): SecretBox {
  const keys = keysText.split(',').filter((k) => k.trim() !== '').map(parseKey);
  const primary = keys[0];
  if (!primary) throw new SecretKeyError('invalid PARLEY_SECRET_KEY: no key given');
  const byId = new Map(keys.map((k) => [k.id, k]));
  return {
    keyId: primary.id,
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', primary.bytes, iv);
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', primary.id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
    },
    open(sealed) {
      const [version, id, iv, tag, data] = sealed.split('.');
      if (version !== 'v1' || !id || !iv || !tag || data === undefined) throw new SecretKeyError('not a sealed secret');
      const key = byId.get(id);
      if (!key) throw new SecretKeyError(`secret was sealed with key ${id}, which is not among the configured keys: add it to PARLEY_SECRET_KEY`);
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    },
    needsRotation(sealed) {
      return sealed.split('.')[1] !== primary.id;
    },
    derive(purpose) {
      return createHmac('sha256', primary.bytes).update(`parley:${purpose}`).digest();
    },
  };
}

/**
 * The configured keys, or the key kept in the data folder, generated once (mode 0600) the
 * first time Parley starts without PARLEY_SECRET_KEY.
 */
export function loadSecretBox(configured: string | undefined, dataDir: string): SecretBox {
  if (configured) return createSecretBox(configured);
  const path = join(dataDir, 'secret.key');
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  chmodSync(path, 0o600);
  return createSecretBox(readFileSync(path, 'utf8'));
}
