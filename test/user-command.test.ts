import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../src/db/database.ts';
import { freshDatabase, onPostgres, type TestDatabase } from './helpers/db.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { call, signIn } from './helpers/users.ts';

const cli = new URL('../src/cli.ts', import.meta.url).pathname;

/** Runs `parley ...` with no terminal attached, as a script or CI would. */
function parley(args: string[], input?: string) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input, env: { ...process.env, DATABASE_URL: '' }, timeout: 60_000 });
}

test('the first administrator is created from the command line: without a terminal, a one-time password is printed and must be replaced at first sign-in', async () => {
  // embedded: the command and the server take turns on one data folder; PostgreSQL: the server keeps running
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-user-'));
  let database: Database | TestDatabase = onPostgres ? await freshDatabase() : await openDatabase({ dataDir });
  const target = onPostgres ? ['--database-url', (database as TestDatabase).url!] : ['--data-dir', dataDir];
  const banner: string[] = [];
  let server: TestParley = await startTestParley({}, { database, print: (line) => banner.push(line) });
  try {
    assert.match(banner.join('\n'), /Create the first administrator: .*npx parley user add --email you@example\.com --role admin/);
    if (!onPostgres) await server.stop();

    const added = parley(['user', 'add', '--email', 'Admin@Example.com', '--role', 'admin', '--name', 'Ada Admin', ...target]);
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /^Created admin admin@example\.com \(Ada Admin\)\./);
    const oneTime = added.stdout.match(/One-time password .*:\n {2}(\S+)\n/)?.[1];
    assert.ok(oneTime, added.stdout);

    const agent = parley(['user', 'add', '--email', 'bo@example.com', '--role', 'agent', '--password-stdin', ...target], 'bo chose this one\n');
    assert.equal(agent.status, 0, agent.stderr);
    assert.doesNotMatch(agent.stdout, /One-time password/);

    const duplicate = parley(['user', 'add', '--email', 'ADMIN@example.com', '--role', 'agent', ...target]);
    assert.equal(duplicate.status, 1);
    assert.equal(duplicate.stderr.trim(), 'parley: a user with the email admin@example.com already exists');

    if (!onPostgres) {
      database = await openDatabase({ dataDir });
      banner.length = 0;
      server = await startTestParley({}, { database, print: (line) => banner.push(line) });
      assert.doesNotMatch(banner.join('\n'), /first administrator/);
    }

    const admin = await signIn(server, 'admin@example.com', oneTime);
    const me = await admin.call('GET', '/api/v1/auth/me');
    assert.equal(me.body.user.role, 'admin');
    assert.equal(me.body.user.mustChangePassword, true);
    assert.equal((await admin.call('GET', '/api/v1/users')).body.error.code, 'password_change_required');
    assert.equal((await admin.call('POST', '/api/v1/auth/password', { currentPassword: oneTime, newPassword: 'my own admin password' })).status, 200);
    const users = await admin.call('GET', '/api/v1/users');
    assert.deepEqual(users.body.users.map((u: { email: string }) => u.email), ['admin@example.com', 'bo@example.com']);

    const bo = await call(server, 'POST', '/api/v1/auth/session', { body: { email: 'bo@example.com', password: 'bo chose this one' } });
    assert.equal(bo.status, 200);
    assert.equal(bo.body.user.mustChangePassword, false, 'a password typed by the user is theirs already');

    const created = (await admin.call('GET', '/api/v1/audit-log?action=user.created')).body.entries;
    assert.deepEqual(created.map((e: { actor: { label: string } }) => e.actor.label), ['command line', 'command line']);
  } finally {
    await server.stop();
  }
});

test('parley user: a wrong or missing flag is a one-line error naming it, exit code 2', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-user-'));
  const cases: [string[], string | undefined, RegExp][] = [
    [['user'], undefined, /^parley: missing subcommand for parley user; use: parley user add --email/],
    [['user', 'remove'], undefined, /^parley: unknown subcommand "remove" for parley user/],
    [['user', 'add', '--role', 'admin'], undefined, /^parley: missing --email for parley user add$/],
    [['user', 'add', '--email', 'a@example.com'], undefined, /^parley: missing --role for parley user add/],
    [['user', 'add', '--email', 'a@example.com', '--role', 'boss'], undefined, /^parley: invalid --role "boss": expected one of admin, supervisor, agent$/],
    [['user', 'add', '--email', 'a@example.com', '--role', 'agent', '--pasword-stdin'], undefined, /^parley: unknown flag '--pasword-stdin'/],
    [['user', 'add', '--email', 'a@example.com', '--role', 'agent', '--password-stdin'], 'short\n', /^parley: invalid password from --password-stdin: must be at least 12 characters long$/],
    [['user', 'add', '--email', 'not-an-email', '--role', 'agent'], undefined, /^parley: invalid --email "not-an-email": must be an email address/],
  ];
  for (const [args, input, expected] of cases) {
    const result = parley([...args, '--data-dir', dataDir], input);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, expected);
  }
});

test('parley user reset-password prints a new one-time password for a locked-out administrator', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-user-'));
  const database: Database | TestDatabase = onPostgres ? await freshDatabase() : undefined!;
  const target = onPostgres ? ['--database-url', (database as TestDatabase).url!] : ['--data-dir', dataDir];
  try {
    assert.equal(parley(['user', 'add', '--email', 'ada@example.com', '--role', 'admin', '--password-stdin', ...target], 'forgotten password\n').status, 0);
    const reset = parley(['user', 'reset-password', '--email', 'ADA@example.com', ...target]);
    assert.equal(reset.status, 0, reset.stderr);
    assert.match(reset.stdout, /^New password for ada@example\.com; their sessions ended\.\nOne-time password/);
    const unknown = parley(['user', 'reset-password', '--email', 'nobody@example.com', ...target]);
    assert.equal(unknown.status, 1);
    assert.equal(unknown.stderr.trim(), 'parley: no user with the email nobody@example.com');
  } finally {
    await database?.close();
  }
});
