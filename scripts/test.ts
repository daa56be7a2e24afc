import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { dropRun, prepareEmbeddedTemplate, preparePostgresTemplate } from '../test/helpers/template.ts';

/**
 * `npm test`: prepares one migrated template database for the run (embedded by default, on
 * PostgreSQL when TEST_DATABASE_URL is set), runs every test file on a copy of it, then drops
 * what the run created. Extra arguments are test files or globs.
 */
const adminUrl = process.env.TEST_DATABASE_URL;
const run = randomBytes(4).toString('hex');
const files = process.argv.slice(2);
const env: NodeJS.ProcessEnv = { ...process.env, PARLEY_TEST_RUN: run };

console.log(adminUrl ? `Tests on PostgreSQL (${new URL(adminUrl).host})` : 'Tests on embedded PostgreSQL (PGlite)');
env.PARLEY_TEST_TEMPLATE = adminUrl ? await preparePostgresTemplate(adminUrl, run) : await prepareEmbeddedTemplate();

const child = spawn(
  process.execPath,
  ['--test', '--test-reporter=spec', `--test-concurrency=${Math.max(2, availableParallelism())}`, '--test-timeout=120000', ...(files.length ? files : ['test/**/*.test.ts'])],
  { stdio: 'inherit', env },
);
const code: number = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
if (adminUrl) await dropRun(adminUrl, run);
process.exit(code);
