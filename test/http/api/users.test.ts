import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley } from '../../helpers/parley.ts';
import { call, signedInClient } from '../../helpers/users.ts';

test('admins create, list, read and edit users; duplicates and bad fields are refused with the field named', async () => {
  const parley = await startTestParley();
  try {
    const admin = await signedInClient(parley, 'admin');
    const created = await admin.call('POST', '/api/v1/users', { email: 'Bo@Example.com', role: 'supervisor', name: 'Bo', password: 'chosen by the admin!' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.user.email, 'bo@example.com');
    assert.equal(created.body.user.mustChangePassword, true, 'a password set by someone else is replaced at first sign-in');
    assert.equal(created.body.oneTimePassword, undefined);
    const id = created.body.user.id;

    const duplicate = await admin.call('POST', '/api/v1/users', { email: 'BO@example.com', role: 'agent' });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.error.code, 'conflict');
    const badRole = await admin.call('POST', '/api/v1/users', { email: 'x@example.com', role: 'boss' });
    assert.equal(badRole.status, 422);
    assert.equal(badRole.body.error.field, 'role');
    const badEmail = await admin.call('POST', '/api/v1/users', { email: 'not an email', role: 'agent' });
    assert.equal(badEmail.status, 422);
    assert.equal(badEmail.body.error.field, 'email');
    const shortPassword = await admin.call('POST', '/api/v1/users', { email: 'y@example.com', role: 'agent', password: 'short' });
    assert.equal(shortPassword.status, 422);
    assert.equal(shortPassword.body.error.field, 'password');

    const one = await admin.call('GET', `/api/v1/users/${id}`);
    assert.equal(one.body.name, 'Bo');
    assert.equal((await admin.call('GET', '/api/v1/users/424242')).status, 404);
    assert.equal((await admin.call('GET', '/api/v1/users/abc')).status, 400, 'a malformed id is a bad request');

    const edited = await admin.call('PATCH', `/api/v1/users/${id}`, { name: 'Bo Berg', role: 'agent' });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.name, 'Bo Berg');
    assert.equal(edited.body.role, 'agent');

    const all = await admin.call('GET', '/api/v1/users');
    assert.equal(all.body.total, 2);
    const agents = await admin.call('GET', '/api/v1/users?role=agent');
    assert.deepEqual(agents.body.users.map((u: { email: string }) => u.email), ['bo@example.com']);
    const paged = await admin.call('GET', '/api/v1/users?limit=1&offset=1');
    assert.equal(paged.body.users.length, 1);
    assert.equal(paged.body.total, 2);
    assert.equal((await admin.call('GET', '/api/v1/users?status=asleep')).status, 400);
  } finally {
    await parley.stop();
  }
});

test('a role change takes effect on the next request', async () => {
  const parley = await startTestParley();
  try {
    const admin = await signedInClient(parley, 'admin');
    const promoted = await signedInClient(parley, 'agent');
    assert.equal((await promoted.call('GET', '/api/v1/users')).status, 403);
    assert.equal((await admin.call('PATCH', `/api/v1/users/${promoted.user.id}`, { role: 'admin' })).status, 200);
    assert.equal((await promoted.call('GET', '/api/v1/users')).status, 200);
  } finally {
    await parley.stop();
  }
});

test('there is always an active administrator, and nobody disables themselves', async () => {
  const parley = await startTestParley();
  try {
    const admin = await signedInClient(parley, 'admin');
    const demote = await admin.call('PATCH', `/api/v1/users/${admin.user.id}`, { role: 'agent' });
    assert.equal(demote.status, 409);
    assert.match(demote.body.error.message, /last active administrator/);
    const self = await admin.call('POST', `/api/v1/users/${admin.user.id}/disable`);
    assert.equal(self.status, 409);

    const second = await signedInClient(parley, 'admin');
    assert.equal((await second.call('PATCH', `/api/v1/users/${admin.user.id}`, { role: 'supervisor' })).status, 200);
    assert.equal((await admin.call('GET', '/api/v1/users')).status, 403);
    assert.equal((await call(parley, 'POST', `/api/v1/users/${second.user.id}/disable`, {})).status, 401);
  } finally {
    await parley.stop();
  }
});

test('an admin gives a user a new one-time password; their sessions end', async () => {
  const parley = await startTestParley();
  try {
    const admin = await signedInClient(parley, 'admin');
    const agent = await signedInClient(parley, 'agent');
    const reset = await admin.call('POST', `/api/v1/users/${agent.user.id}/password-reset`);
    assert.equal(reset.status, 200);
    assert.equal(reset.body.user.mustChangePassword, true);
    assert.equal((await agent.call('GET', '/api/v1/auth/me')).status, 401);
    const signIn = await call(parley, 'POST', '/api/v1/auth/session', { body: { email: agent.user.email, password: reset.body.oneTimePassword } });
    assert.equal(signIn.status, 200);
    assert.equal(signIn.body.user.mustChangePassword, true);
  } finally {
    await parley.stop();
  }
});
