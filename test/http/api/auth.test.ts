import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SIGN_IN_LIMITS } from '../../../src/core/users/throttle.ts';
import { startTestParley } from '../../helpers/parley.ts';
import { addUser, call, sessionCookieOf, signIn, signedInClient } from '../../helpers/users.ts';

test('signing in sets an HttpOnly, SameSite=Lax session cookie and returns the user and a CSRF token; signing out ends the session', async () => {
  const parley = await startTestParley();
  try {
    const { user, password } = await addUser(parley, 'supervisor', { email: 'Sam.Super@Example.com', name: 'Sam' });
    assert.equal(user.email, 'sam.super@example.com', 'emails are kept in lower case');
    const response = await call(parley, 'POST', '/api/v1/auth/session', { body: { email: 'SAM.super@example.COM ', password } });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.user.email, 'sam.super@example.com');
    assert.equal(response.body.user.role, 'supervisor');
    assert.equal(response.body.user.name, 'Sam');
    assert.equal('passwordHash' in response.body.user, false);
    assert.match(response.body.csrfToken, /^[A-Za-z0-9_-]{43}$/);
    const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('parley_session='))!;
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Lax/);
    assert.match(setCookie, /; Path=\//);
    assert.doesNotMatch(setCookie, /Secure/, 'plain http: a Secure cookie would not come back');

    const cookie = sessionCookieOf(response.headers)!;
    const me = await call(parley, 'GET', '/api/v1/auth/me', { cookie });
    assert.equal(me.status, 200);
    assert.equal(me.body.user.id, user.id);
    assert.equal(me.body.csrfToken, response.body.csrfToken);

    const out = await call(parley, 'DELETE', '/api/v1/auth/session', { cookie, csrfToken: response.body.csrfToken });
    assert.equal(out.status, 204);
    assert.match(out.headers.getSetCookie().join(), /parley_session=;/);
    assert.equal((await call(parley, 'GET', '/api/v1/auth/me', { cookie })).status, 401, 'the old cookie opens nothing');
  } finally {
    await parley.stop();
  }
});

test('the session cookie is Secure when the browser reaches Parley over https', async () => {
  const behindProxy = await startTestParley({ trustProxy: true });
  const publicHttps = await startTestParley({ publicUrl: 'https://parley.example.com' });
  try {
    const a = await addUser(behindProxy, 'agent');
    const viaProxy = await call(behindProxy, 'POST', '/api/v1/auth/session', { body: { email: a.user.email, password: a.password }, headers: { 'x-forwarded-proto': 'https' } });
    assert.match(viaProxy.headers.getSetCookie().join(), /; Secure/);
    const b = await addUser(publicHttps, 'agent');
    // fetch does not let a test choose the Host header; inject does
    const atPublicUrl = await publicHttps.app.inject({ method: 'POST', url: '/api/v1/auth/session', headers: { host: 'parley.example.com' }, payload: { email: b.user.email, password: b.password } });
    assert.equal(atPublicUrl.statusCode, 200);
    assert.match(String(atPublicUrl.headers['set-cookie']), /; Secure/);
    const direct = await call(publicHttps, 'POST', '/api/v1/auth/session', { body: { email: b.user.email, password: b.password } });
    assert.doesNotMatch(direct.headers.getSetCookie().join(), /Secure/, 'reached directly on its http address');
  } finally {
    await behindProxy.stop();
    await publicHttps.stop();
  }
});

test('a wrong password and an unknown email get the same answer', async () => {
  const parley = await startTestParley();
  try {
    const { user } = await addUser(parley, 'agent');
    const wrong = await call(parley, 'POST', '/api/v1/auth/session', { body: { email: user.email, password: 'not the password at all' } });
    const unknown = await call(parley, 'POST', '/api/v1/auth/session', { body: { email: 'nobody@example.com', password: 'not the password at all' } });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body, unknown.body);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
    const missing = await call(parley, 'POST', '/api/v1/auth/session', { body: { email: user.email } });
    assert.equal(missing.status, 422);
    assert.equal(missing.body.error.field, 'password');
    const malformed = await parley.request('/api/v1/auth/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as { error: { code: string } }).error.code, 'bad_request');
  } finally {
    await parley.stop();
  }
});

test('repeated failed sign-ins are slowed down per account, even for the right password, with Retry-After', async () => {
  const parley = await startTestParley();
  try {
    const { user, password } = await addUser(parley, 'admin');
    const attempt = (pw: string, email = user.email) => call(parley, 'POST', '/api/v1/auth/session', { body: { email, password: pw } });
    const statuses: number[] = [];
    for (let i = 0; i < SIGN_IN_LIMITS.freeFailuresPerAccount + 3; i++) {
      const response = await attempt(`guess number ${i}`);
      statuses.push(response.status);
      if (response.status === 429) {
        assert.equal(response.body.error.code, 'rate_limited');
        assert.ok(Number(response.headers.get('retry-after')) >= 1);
        break;
      }
    }
    assert.deepEqual(statuses.slice(0, SIGN_IN_LIMITS.freeFailuresPerAccount), Array(SIGN_IN_LIMITS.freeFailuresPerAccount).fill(401), 'the first failures are free');
    assert.equal(statuses.at(-1), 429, `slowed down: ${statuses.join(', ')}`);
    const right = await attempt(password);
    assert.equal(right.status, 429, 'while slowed down, even the right password waits');

    // once the wait is over (here: the failures aged), the right password works and forgives the account
    await parley.database.db.updateTable('sign_in_failures').set({ at: new Date(Date.now() - 60_000) }).execute();
    assert.equal((await attempt(password)).status, 200);
    assert.equal((await attempt('one more wrong guess')).status, 401, 'the account starts afresh');
  } finally {
    await parley.stop();
  }
});

test('failed sign-ins are slowed down per address across accounts, and the limit lives in the database', async () => {
  const parley = await startTestParley();
  try {
    const { user, password } = await addUser(parley, 'agent');
    // many failures on many accounts from one address (as written by any instance)
    await parley.database.db
      .insertInto('sign_in_failures')
      .values(Array.from({ length: SIGN_IN_LIMITS.freeFailuresPerAddress }, (_, i) => ({ email: `someone${i}@example.com`, ip: '127.0.0.1' })))
      .execute();
    const limited = await call(parley, 'POST', '/api/v1/auth/session', { body: { email: user.email, password } });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  } finally {
    await parley.stop();
  }
});

test('a one-time password must be replaced before anything else; changing the password ends the other sessions', async () => {
  const parley = await startTestParley();
  try {
    const admin = await signedInClient(parley, 'admin');
    const created = await admin.call('POST', '/api/v1/users', { email: 'ana@example.com', role: 'agent', name: 'Ana' });
    assert.equal(created.status, 201);
    const oneTime = created.body.oneTimePassword as string;
    assert.match(oneTime, /^[a-zA-Z2-9]{4}(-[a-zA-Z2-9]{4}){4}$/);

    const first = await signIn(parley, 'ana@example.com', oneTime);
    const me = await first.call('GET', '/api/v1/auth/me');
    assert.equal(me.body.user.mustChangePassword, true);
    const blocked = await first.call('GET', '/api/v1/auth/tokens');
    assert.equal(blocked.status, 403);
    assert.equal(blocked.body.error.code, 'password_change_required');

    const short = await first.call('POST', '/api/v1/auth/password', { currentPassword: oneTime, newPassword: 'short' });
    assert.equal(short.status, 422);
    assert.equal(short.body.error.field, 'newPassword');
    const wrongCurrent = await first.call('POST', '/api/v1/auth/password', { currentPassword: 'not-it-at-all', newPassword: 'a long enough new password' });
    assert.equal(wrongCurrent.status, 422);
    assert.equal(wrongCurrent.body.error.field, 'currentPassword');

    const second = await signIn(parley, 'ana@example.com', oneTime);
    const changed = await first.call('POST', '/api/v1/auth/password', { currentPassword: oneTime, newPassword: 'a long enough new password' });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.mustChangePassword, false);
    assert.equal((await first.call('GET', '/api/v1/auth/tokens')).status, 200, 'the session in use stays');
    assert.equal((await second.call('GET', '/api/v1/auth/me')).status, 401, 'other sessions ended');
    assert.equal((await call(parley, 'POST', '/api/v1/auth/session', { body: { email: 'ana@example.com', password: oneTime } })).status, 401);
    await signIn(parley, 'ana@example.com', 'a long enough new password');
  } finally {
    await parley.stop();
  }
});

test('personal API tokens: shown once at creation, listed masked, revoked by their owner only', async () => {
  const parley = await startTestParley();
  try {
    const agent = await signedInClient(parley, 'agent');
    const other = await signedInClient(parley, 'agent');
    const created = await agent.call('POST', '/api/v1/auth/tokens', { name: 'CRM sync' });
    assert.equal(created.status, 201);
    assert.match(created.body.secret, /^parley_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.body.token.name, 'CRM sync');
    assert.equal(created.body.token.revokedAt, null);
    const emptyName = await agent.call('POST', '/api/v1/auth/tokens', { name: '   ' });
    assert.equal(emptyName.status, 422);
    assert.equal(emptyName.body.error.field, 'name');

    assert.equal((await other.call('DELETE', `/api/v1/auth/tokens/${created.body.token.id}`)).status, 404, "someone else's token is not found");
    assert.equal((await other.call('GET', '/api/v1/auth/tokens')).body.tokens.length, 0);
    assert.equal((await call(parley, 'GET', '/api/v1/auth/me', { token: created.body.secret })).status, 200);
    assert.equal((await agent.call('DELETE', `/api/v1/auth/tokens/${created.body.token.id}`)).status, 204);
    const listed = await agent.call('GET', '/api/v1/auth/tokens');
    assert.ok(listed.body.tokens[0].revokedAt);
    assert.equal((await call(parley, 'GET', '/api/v1/auth/me', { token: created.body.secret })).status, 401);
    assert.equal((await agent.call('DELETE', '/api/v1/auth/tokens/999999')).status, 404);
  } finally {
    await parley.stop();
  }
});
