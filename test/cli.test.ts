import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaStatus } from '../src/db/migrate.ts';
import { freshDatabase, onPostgres } from './helpers/db.ts';

const cli = new URL('../src/cli.ts', import.meta.url).pathname;

function parley(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
}

test('--version and --help', () => {
  const version = parley(['--version']);
  assert.equal(version.status, 0);
  assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
  const help = parley(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: parley <command>/);
  assert.match(help.stdout, /--port <value>\s+PARLEY_PORT/);
});

test('a wrong flag, command or setting gives a one-line error naming it, and exit code 2', () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['start', '--prot', '9000'], {}, /^parley: unknown flag '--prot'; see parley --help$/],
    [['start', '--port', 'x'], {}, /^parley: invalid PARLEY_PORT \(--port\) "x": expected an integer from 0 to 65535$/],
    [['start'], { PARLEY_LOG_LEVEL: 'chatty' }, /^parley: invalid PARLEY_LOG_LEVEL \(--log-level\) "chatty": expected one of/],
    [['start'], { DATABASE_URL: 'localhost:5432' }, /^parley: invalid DATABASE_URL \(--database-url\) "localhost:5432"/],
    [['start'], { PARLEY_SECRET_KEY: 'short' }, /^parley: invalid PARLEY_SECRET_KEY: expected one or more comma-separated keys/],
    [['launch'], {}, /^parley: unknown command "launch"/],
  ];
  for (const [args, env, expected] of cases) {
    const result = parley(args, { PARLEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'parley-cli-')), ...env });
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, expected);
  }
});

async function waitForLine(child: ReturnType<typeof spawn>, pattern: RegExp, output: { text: string }): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}: ${output.text}`)), 60_000);
    const check = () => {
      const match = output.text.match(pattern);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(match);
      }
    };
    child.stdout!.on('data', check);
    check();
  });
}

function startServer(dataDir: string) {
  const child = spawn(process.execPath, [cli, 'start', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { env: { ...process.env, DATABASE_URL: '' } });
  const output = { text: '' };
  child.stdout.on('data', (chunk) => (output.text += chunk));
  child.stderr.on('data', (chunk) => (output.text += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

test('start serves on the embedded database, refuses a second start on the same data folder, stops cleanly on SIGTERM and reuses its data', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-start-'));
  const first = startServer(dataDir);
  t.after(() => first.child.kill('SIGKILL'));
  const [, url] = await waitForLine(first.child, /Parley is listening on (http:\/\/\S+)[^]*PUBLIC_URL/, first.output);
  assert.match(first.output.text, /Database: embedded PostgreSQL \(PGlite\) in /);
  assert.match(first.output.text, /Applied migrations: 0001/);
  assert.equal((await fetch(`${url}/readyz`)).status, 200);

  const second = parley(['start', '--port', '0', '--data-dir', dataDir], { DATABASE_URL: '' });
  assert.equal(second.status, 1);
  assert.match(second.stderr, /the data folder .* is in use by another Parley process/);

  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0, first.output.text);
  assert.match(first.output.text, /Parley stopped\./);
  assert.equal(existsSync(join(dataDir, 'parley.lock')), false, 'the lock is released');

  const again = startServer(dataDir);
  t.after(() => again.child.kill('SIGKILL'));
  const [, url2] = await waitForLine(again.child, /Parley is listening on (http:\/\/\S+)[^]*PUBLIC_URL/, again.output);
  assert.doesNotMatch(again.output.text, /Applied migrations/, 'the data (and its schema) was kept');
  assert.equal((await fetch(`${url2}/readyz`)).status, 200);
  again.child.kill('SIGINT');
  assert.equal(await again.exited, 0, again.output.text);
});

test('parley migrate applies migrations to PostgreSQL given by --database-url', { skip: !onPostgres && 'needs PostgreSQL' }, async () => {
  const database = await freshDatabase({ migrated: false });
  try {
    const result = parley(['migrate', '--database-url', database.url!]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^Applied 0001_jobs.* on PostgreSQL at /);
    assert.equal((await schemaStatus(database.db)).current, true);
    const again = parley(['migrate'], { DATABASE_URL: database.url! });
    assert.match(again.stdout, /is up to date/);
  } finally {
    await database.close();
  }
});
