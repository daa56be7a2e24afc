import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPasswordPolicy, generateOneTimePassword, hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from '../../../src/core/users/passwords.ts';

test('passwords are hashed with Argon2id and checked', async () => {
  const hash = await hashPassword('correct horse battery');
  assert.match(hash, /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
  assert.equal(await verifyPassword(hash, 'correct horse battery'), true);
  assert.equal(await verifyPassword(hash, 'correct horse batterz'), false);
  assert.equal(await verifyPassword('not a hash', 'anything'), false);
  assert.notEqual(await hashPassword('correct horse battery'), hash, 'salted');
});

test('a password has a minimum length, counted in characters', () => {
  assert.throws(() => checkPasswordPolicy('a'.repeat(MIN_PASSWORD_LENGTH - 1)), /password: must be at least 12 characters/);
  assert.throws(() => checkPasswordPolicy('ü'.repeat(MIN_PASSWORD_LENGTH - 1)), /at least 12/);
  checkPasswordPolicy('a'.repeat(MIN_PASSWORD_LENGTH));
  assert.throws(() => checkPasswordPolicy('a'.repeat(300), 'newPassword'), /newPassword: must be at most/);
});

test('one-time passwords are long enough, unambiguous and different each time', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const password = generateOneTimePassword();
    assert.match(password, /^[a-km-zA-HJ-NP-Z2-9]{4}(-[a-km-zA-HJ-NP-Z2-9]{4}){4}$/);
    checkPasswordPolicy(password);
    seen.add(password);
  }
  assert.equal(seen.size, 100);
});
