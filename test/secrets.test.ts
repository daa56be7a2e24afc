import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createSecretBox, loadSecretBox, SecretKeyError } from '../src/secrets.ts';
import { freshDatabase } from './helpers/db.ts';

const key = () => randomBytes(32).toString('base64');

test('a sealed secret opens with its key and is not readable in the database', async () => {
  const box = createSecretBox(key());
  const token = 'EAAG-page-access-token-1234567890';
  const sealed = box.seal(token);
  assert.equal(box.open(sealed), token);
  assert.ok(!sealed.includes(token));

  const database = await freshDatabase();
  try {
    await sql`CREATE TABLE probe (value text)`.execute(database.db);
    await sql`INSERT INTO probe VALUES (${sealed})`.execute(database.db);
    const { rows } = await sql<{ dump: string }>`SELECT string_agg(value, ',') AS dump FROM probe`.execute(database.db);
    assert.ok(!rows[0]!.dump.includes(token), 'the plaintext never reaches the database');
    assert.ok(!rows[0]!.dump.includes(Buffer.from(token).toString('base64')));
  } finally {
    await database.close();
  }
});

test('the same secret sealed twice gives different ciphertexts', () => {
  const box = createSecretBox(key());
  assert.notEqual(box.seal('x'), box.seal('x'));
});

test('a tampered ciphertext is refused', () => {
  const box = createSecretBox(key());
  const parts = box.seal('secret value').split('.');
  const data = Buffer.from(parts[4]!, 'base64url');
  data[0] = data[0]! ^ 1;
  parts[4] = data.toString('base64url');
  assert.throws(() => box.open(parts.join('.')));
});

test('keys rotate: the new key seals, the old one still opens, and old values are flagged for re-sealing', () => {
  const oldKey = key();
  const newKey = key();
  const before = createSecretBox(oldKey).seal('token-A');
  const rotated = createSecretBox(`${newKey},${oldKey}`);
  assert.equal(rotated.open(before), 'token-A');
  assert.equal(rotated.needsRotation(before), true);
  const after = rotated.seal('token-A');
  assert.equal(rotated.needsRotation(after), false);
  assert.throws(() => createSecretBox(newKey).open(before), /not among the configured keys/);
});

test('a malformed key is refused with what is expected, never echoing it', () => {
  assert.throws(() => createSecretBox('too-short-key'), (error: Error) => {
    assert.ok(error instanceof SecretKeyError);
    assert.match(error.message, /32 bytes in base64/);
    assert.ok(!error.message.includes('too-short-key'));
    return true;
  });
});

test('without PARLEY_SECRET_KEY a key is generated once in the data folder, readable only by its owner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-key-'));
  const first = loadSecretBox(undefined, dir);
  const sealed = first.seal('hello');
  const second = loadSecretBox(undefined, dir);
  assert.equal(second.open(sealed), 'hello');
  assert.equal(statSync(join(dir, 'secret.key')).mode & 0o777, 0o600);
  assert.equal(Buffer.from(readFileSync(join(dir, 'secret.key'), 'utf8').trim(), 'base64').length, 32);
});
