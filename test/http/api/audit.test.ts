import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestParley } from '../../helpers/parley.ts';
import { call, signIn, signedInClient } from '../../helpers/users.ts';

test('the audit log records security actions with who, what, when and from where, and never a secret', async () => {
  const parley = await startTestParley();
  try {
    const admin = await signedInClient(parley, 'admin');
    const secrets: string[] = [admin.password, admin.cookie!.split('=')[1]!, admin.csrfToken!];

    const created = await admin.call('POST', '/api/v1/users', { email: 'cy@example.com', role: 'agent', password: 'the password of cy!' });
    secrets.push('the password of cy!');
    const cy = created.body.user;
    await call(parley, 'POST', '/api/v1/auth/session', { body: { email: 'cy@example.com', password: 'a wrong guess for cy' }, headers: { 'user-agent': 'guesser/1.0' } });
    await call(parley, 'POST', '/api/v1/auth/session', { body: { email: 'ghost@example.com', password: 'a wrong guess for ghost' } });
    secrets.push('a wrong guess for cy', 'a wrong guess for ghost');
    const session = await signIn(parley, 'cy@example.com', 'the password of cy!');
    secrets.push(session.cookie!.split('=')[1]!);
    await session.call('POST', '/api/v1/auth/password', { currentPassword: 'the password of cy!', newPassword: 'cy has a new password' });
    secrets.push('cy has a new password');
    const token = await session.call('POST', '/api/v1/auth/tokens', { name: 'cy script' });
    secrets.push(token.body.secret);
    await session.call('DELETE', `/api/v1/auth/tokens/${token.body.token.id}`);
    await session.call('DELETE', '/api/v1/auth/session');
    await admin.call('PATCH', `/api/v1/users/${cy.id}`, { name: 'Cy', role: 'supervisor' });
    await admin.call('POST', `/api/v1/users/${cy.id}/disable`);
    await admin.call('POST', `/api/v1/users/${cy.id}/enable`);
    const reset = await admin.call('POST', `/api/v1/users/${cy.id}/password-reset`);
    secrets.push(reset.body.oneTimePassword);

    const log = await admin.call('GET', '/api/v1/audit-log?limit=500');
    assert.equal(log.status, 200);
    const actions = log.body.entries.map((e: { action: string }) => e.action).reverse();
    assert.deepEqual(actions, [
      'user.created', // the admin, by the test helper
      'auth.sign_in',
      'user.created',
      'auth.sign_in_failed',
      'auth.sign_in_failed',
      'auth.sign_in',
      'user.password_changed',
      'token.created',
      'token.revoked',
      'auth.sign_out',
      'user.updated',
      'user.role_changed',
      'user.disabled',
      'user.enabled',
      'user.password_reset',
    ]);
    const entry = (action: string) => log.body.entries.find((e: { action: string }) => e.action === action);
    const createdEntry = log.body.entries.filter((e: { action: string }) => e.action === 'user.created')[0];
    assert.deepEqual(createdEntry.actor, { userId: admin.user.id, label: admin.user.email });
    assert.deepEqual(createdEntry.target, { type: 'user', id: String(cy.id) });
    assert.equal(createdEntry.ip, '127.0.0.1');
    assert.ok(Date.now() - Date.parse(createdEntry.at) < 60_000);
    const failures = log.body.entries.filter((e: { action: string }) => e.action === 'auth.sign_in_failed');
    assert.deepEqual(failures.map((e: { details: { reason: string } }) => e.details.reason).sort(), ['unknown email', 'wrong password']);
    assert.equal(failures.find((e: { details: { email: string } }) => e.details.email === 'cy@example.com').userAgent, 'guesser/1.0');
    assert.deepEqual(entry('user.role_changed').details.role, { from: 'agent', to: 'supervisor' });
    assert.deepEqual(entry('user.disabled').details, { email: 'cy@example.com', sessionsEnded: 0, tokensRevoked: 0 });
    assert.equal(entry('token.created').details.tokenName, 'cy script');

    // no secret anywhere in the stored rows, whatever the column
    const { rows } = await sql<{ row: string }>`SELECT row_to_json(a)::text AS row FROM audit_log a`.execute(parley.database.db);
    const stored = rows.map((r) => r.row).join('\n');
    for (const secret of secrets) assert.equal(stored.includes(secret), false, `the audit log holds a secret: ${secret.slice(0, 4)}…`);
  } finally {
    await parley.stop();
  }
});

test('the audit log is read by admins with filters, newest first, a page at a time', async () => {
  const parley = await startTestParley();
  try {
    const admin = await signedInClient(parley, 'admin');
    for (let i = 0; i < 5; i++) await admin.call('POST', '/api/v1/auth/tokens', { name: `token ${i}` });

    const first = await admin.call('GET', '/api/v1/audit-log?action=token.created&limit=2');
    assert.deepEqual(first.body.entries.map((e: { details: { tokenName: string } }) => e.details.tokenName), ['token 4', 'token 3']);
    const second = await admin.call('GET', `/api/v1/audit-log?action=token.created&limit=2&before=${first.body.nextBefore}`);
    assert.deepEqual(second.body.entries.map((e: { details: { tokenName: string } }) => e.details.tokenName), ['token 2', 'token 1']);
    const last = await admin.call('GET', `/api/v1/audit-log?action=token.created&limit=2&before=${second.body.nextBefore}`);
    assert.equal(last.body.entries.length, 1);
    assert.equal(last.body.nextBefore, null);

    const area = await admin.call('GET', '/api/v1/audit-log?action=auth.');
    assert.deepEqual(area.body.entries.map((e: { action: string }) => e.action), ['auth.sign_in']);
    const byActor = await admin.call('GET', `/api/v1/audit-log?actorUserId=${admin.user.id}`);
    assert.equal(byActor.body.entries.length, 6);
    const byTarget = await admin.call('GET', `/api/v1/audit-log?targetType=user&targetId=${admin.user.id}`);
    assert.deepEqual(byTarget.body.entries.map((e: { action: string }) => e.action), ['auth.sign_in', 'user.created']);
    const future = await admin.call('GET', `/api/v1/audit-log?since=${new Date(Date.now() + 3_600_000).toISOString()}`);
    assert.equal(future.body.entries.length, 0);
    assert.equal((await admin.call('GET', '/api/v1/audit-log?since=yesterday')).status, 400);

    const supervisor = await signedInClient(parley, 'supervisor');
    assert.equal((await supervisor.call('GET', '/api/v1/audit-log')).status, 403);
  } finally {
    await parley.stop();
  }
});
