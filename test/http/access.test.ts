import { test } from 'node:test';
import assert from 'node:assert/strict';
import cookie from '@fastify/cookie';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { SYSTEM_ACTORS } from '../../src/core/audit/log.ts';
import { ROLES, type Role } from '../../src/core/users/roles.ts';
import { createToken } from '../../src/core/users/tokens.ts';
import { registerAccess } from '../../src/http/access.ts';
import { registerErrorHandling } from '../../src/http/errors.ts';
import { freshDatabase } from '../helpers/db.ts';
import { startTestParley } from '../helpers/parley.ts';
import { addUser, call, signedInClient, tokenClient } from '../helpers/users.ts';

/** Fills the path parameters of a route pattern with an id nobody has, so allowed calls change nothing. */
function concrete(url: string): string {
  return url.replace(/:[A-Za-z]+/g, '999999');
}

test('every API route declares its roles: unauthenticated callers get 401, roles outside the declaration get 403', async () => {
  const parley = await startTestParley();
  try {
    const routes = parley.app.routeAccess.filter((r) => r.url.startsWith('/api/') && r.method !== 'HEAD');
    const guarded = routes.filter((r) => !r.public);
    assert.ok(guarded.length >= 15, `found ${guarded.length} guarded routes`);
    assert.ok(guarded.some((r) => r.roles.length === 1 && r.roles[0] === 'admin'), 'admin-only routes exist');
    for (const route of routes.filter((r) => r.public)) {
      assert.ok(['/api/v1/auth/session', '/api/openapi.json'].includes(route.url), `${route.method} ${route.url} is public: is that intended?`);
    }

    // tokens: no CSRF to handle, and signing out with one ends nothing
    const clients = Object.fromEntries(await Promise.all(ROLES.map(async (role) => [role, await tokenClient(parley, role)] as const))) as Record<Role, Awaited<ReturnType<typeof tokenClient>>>;
    for (const route of guarded) {
      const path = concrete(route.url);
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : {};
      const anonymous = await call(parley, route.method, path, { body });
      assert.equal(anonymous.status, 401, `anonymous ${route.method} ${route.url}`);
      assert.equal(anonymous.body.error.code, 'unauthorized');

      for (const role of ROLES) {
        const response = await clients[role].call(route.method, path, body);
        if (route.roles.includes(role)) {
          assert.ok(![401, 403].includes(response.status), `${role} may ${route.method} ${route.url}, got ${response.status} ${JSON.stringify(response.body)}`);
        } else {
          assert.equal(response.status, 403, `${role} must not ${route.method} ${route.url}`);
          assert.equal(response.body.error.code, 'forbidden');
        }
      }
    }
    // the roles of the issue: users and the audit log are for admins only
    for (const route of guarded.filter((r) => r.url.startsWith('/api/v1/users') || r.url.startsWith('/api/v1/audit-log'))) {
      assert.deepEqual(route.roles, ['admin'], `${route.method} ${route.url}`);
    }
  } finally {
    await parley.stop();
  }
});

test('a route that declares neither roles nor public fails to register', async () => {
  const database = await freshDatabase();
  try {
    const app = Fastify();
    registerAccess(app, { database, sessionIdleMinutes: 60 });
    assert.throws(() => app.get('/api/v1/forgotten', async () => 'open'), /GET \/api\/v1\/forgotten declares no access: add config.roles/);
    assert.throws(() => app.get('/api/v1/both', { config: { public: true, roles: ['admin'] } }, async () => 'x'), /both public and for roles/);
    assert.throws(() => app.get('/api/v1/boss', { config: { roles: ['boss' as Role] } }, async () => 'x'), /unknown role "boss"/);
    await app.close();
  } finally {
    await database.close();
  }
});

test('a scope check declared on a route runs after the role check, with typed params', async () => {
  const database = await freshDatabase();
  try {
    const app = Fastify();
    registerErrorHandling(app);
    await app.register(cookie);
    registerAccess(app, { database, sessionIdleMinutes: 60 });
    app.get<{ Params: { owner: string } }>('/things/:owner', {
      config: { roles: ['agent', 'admin'], scope: (request, user) => (request.params as { owner: string }).owner === String(user.id) },
    }, async () => ({ ok: true }));
    const fakeParley = { database } as never;
    const { user } = await addUser(fakeParley, 'agent');
    const { secret } = await createToken(database.db, user.id, 'scope test', SYSTEM_ACTORS.commandLine);
    const mine = await app.inject({ url: `/things/${user.id}`, headers: { authorization: `Bearer ${secret}` } });
    assert.equal(mine.statusCode, 200);
    const other = await app.inject({ url: `/things/${user.id + 1}`, headers: { authorization: `Bearer ${secret}` } });
    assert.equal(other.statusCode, 403);
    assert.match(other.json().error.message, /outside what you may see/);
    await app.close();
  } finally {
    await database.close();
  }
});

test('a state-changing request with the session cookie but without the CSRF token is refused', async () => {
  const parley = await startTestParley();
  try {
    const agent = await signedInClient(parley, 'agent');
    const noHeader = await call(parley, 'POST', '/api/v1/auth/tokens', { body: { name: 'x' }, cookie: agent.cookie });
    assert.equal(noHeader.status, 403);
    assert.equal(noHeader.body.error.code, 'csrf_failed');
    const wrong = await call(parley, 'PATCH', '/api/v1/auth/me', { body: { name: 'Mallory' }, cookie: agent.cookie, csrfToken: 'guessed' });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error.code, 'csrf_failed');
    const signOut = await call(parley, 'DELETE', '/api/v1/auth/session', { cookie: agent.cookie });
    assert.equal(signOut.status, 403, 'a foreign page cannot sign the user out either');

    // reading needs no token, and with it the same change goes through
    assert.equal((await call(parley, 'GET', '/api/v1/auth/me', { cookie: agent.cookie })).status, 200);
    const right = await agent.call('PATCH', '/api/v1/auth/me', { name: 'Ana' });
    assert.equal(right.status, 200);
    assert.equal(right.body.name, 'Ana');
    // another session's token does not fit this one
    const other = await signedInClient(parley, 'agent');
    const crossed = await call(parley, 'PATCH', '/api/v1/auth/me', { body: { name: 'Eve' }, cookie: agent.cookie, csrfToken: other.csrfToken });
    assert.equal(crossed.status, 403);
  } finally {
    await parley.stop();
  }
});

test('API tokens authenticate as their user without CSRF; a revoked or unknown token is refused', async () => {
  const parley = await startTestParley();
  try {
    const admin = await tokenClient(parley, 'admin');
    const me = await admin.call('GET', '/api/v1/auth/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.user.email, admin.user.email);
    assert.equal(me.body.csrfToken, null);
    assert.equal((await admin.call('POST', '/api/v1/users', { email: 'new.agent@example.com', role: 'agent' })).status, 201);

    const listed = await admin.call('GET', '/api/v1/auth/tokens');
    const [token] = listed.body.tokens;
    assert.ok(admin.token!.startsWith(token.prefix.replace('…', '')));
    assert.notEqual(token.prefix.replace('…', ''), admin.token);
    assert.equal(JSON.stringify(listed.body).includes(admin.token!), false, 'the list never shows the token');
    assert.ok(token.lastUsedAt, 'last use is recorded');

    assert.equal((await admin.call('DELETE', `/api/v1/auth/tokens/${token.id}`)).status, 204);
    const refused = await admin.call('GET', '/api/v1/auth/me');
    assert.equal(refused.status, 401);
    assert.match(refused.body.error.message, /unknown, revoked/);
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer');

    assert.equal((await call(parley, 'GET', '/api/v1/auth/me', { token: 'parley_nothing' })).status, 401);
    assert.equal((await call(parley, 'GET', '/api/v1/auth/me', { headers: { authorization: 'Basic YTpi' } })).status, 401);
  } finally {
    await parley.stop();
  }
});

test('a session idle longer than PARLEY_SESSION_IDLE_MINUTES ends; activity keeps it alive', async () => {
  const parley = await startTestParley({ sessionIdleMinutes: 5 });
  try {
    const agent = await signedInClient(parley, 'agent');
    const idle = await signedInClient(parley, 'agent');
    // 4 minutes idle: still alive, and the request counts as activity
    await sql`UPDATE sessions SET last_seen_at = now() - interval '4 minutes'`.execute(parley.database.db);
    assert.equal((await agent.call('GET', '/api/v1/auth/me')).status, 200);
    await sql`UPDATE sessions SET last_seen_at = last_seen_at - interval '2 minutes'`.execute(parley.database.db);
    assert.equal((await agent.call('GET', '/api/v1/auth/me')).status, 200, 'the last request renewed it');
    const expired = await idle.call('GET', '/api/v1/auth/me');
    assert.equal(expired.status, 401, 'six minutes without a request');
    assert.match(expired.body.error.message, /session has ended/);
  } finally {
    await parley.stop();
  }
});

test('disabling a user ends their sessions and tokens at once', async () => {
  const parley = await startTestParley();
  try {
    const admin = await signedInClient(parley, 'admin');
    const agent = await signedInClient(parley, 'agent');
    const script = await tokenClient(parley, 'agent');
    const scriptUser = script.user;
    const scriptSession = await signedInClient(parley, 'supervisor');
    assert.equal((await agent.call('GET', '/api/v1/auth/me')).status, 200);

    const disabled = await admin.call('POST', `/api/v1/users/${agent.user.id}/disable`);
    assert.equal(disabled.status, 200);
    assert.equal(disabled.body.disabled, true);
    assert.equal((await agent.call('GET', '/api/v1/auth/me')).status, 401);
    assert.equal((await call(parley, 'POST', '/api/v1/auth/session', { body: { email: agent.user.email, password: agent.password } })).status, 401);

    assert.equal((await admin.call('POST', `/api/v1/users/${scriptUser.id}/disable`)).status, 200);
    assert.equal((await script.call('GET', '/api/v1/auth/me')).status, 401);
    // enabling again lets them sign in, but revoked tokens stay revoked
    assert.equal((await admin.call('POST', `/api/v1/users/${scriptUser.id}/enable`)).status, 200);
    assert.equal((await script.call('GET', '/api/v1/auth/me')).status, 401);
    assert.equal((await call(parley, 'POST', '/api/v1/auth/session', { body: { email: scriptUser.email, password: script.password } })).status, 200);
    assert.equal((await scriptSession.call('GET', '/api/v1/auth/me')).status, 200, 'other users are untouched');
  } finally {
    await parley.stop();
  }
});
