#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, SETTINGS, databaseLabel, loadConfig, settingFlags, type Config } from './config.ts';
import { DataFolderLockedError } from './db/lock.ts';
import { migrateToLatest, SchemaTooNewError } from './db/migrate.ts';
import { openConfiguredDatabase, startParley } from './runtime.ts';
import { sandboxCommand } from './sandbox/cli.ts';
import { startDemo } from './demo.ts';
import { join } from 'node:path';
import { SecretKeyError } from './secrets.ts';
import { DomainError } from './core/errors.ts';
import { userCommand } from './user-command.ts';

/** The `parley` command: start the server, migrate, and the administrative subcommands. */
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export class UsageError extends Error {
  override name = 'UsageError';
}

const COMMANDS: Record<string, { summary: string; run: (args: string[]) => Promise<number> }> = {
  start: { summary: 'start the server (migrates the database first); --demo adds the provider sandbox and demo data', run: startCommand },
  migrate: { summary: 'apply pending database migrations and exit', run: migrateCommand },
  user: {
    summary: 'manage users: `parley user add --email <email> --role admin|supervisor|agent [--name <name>] [--password-stdin]`, `parley user reset-password --email <email>`',
    run: (args) => userCommand(args, { parseFlags, usageError: (message) => new UsageError(message) }),
  },
  sandbox: { summary: 'run the local provider emulators; `parley sandbox say ...` speaks as a customer', run: (args) => sandboxCommand(args) },
};

function help(): string {
  const settings = SETTINGS.map((s) => `  ${(s.flag ? `--${s.flag} <value>` : '').padEnd(24)} ${s.env.padEnd(28)} ${s.expected}${s.default !== undefined ? ` (default ${String(s.default)})` : ''}`);
  return [
    `parley ${version}: self-hosted omnichannel contact center`,
    '',
    'Usage: parley <command> [flags]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
    '',
    'Settings (flag, environment variable, expected value):',
    ...settings,
    '',
    '  --help, -h      show this help',
    '  --version, -v   show the version',
  ].join('\n');
}

/** Parses the flags of a command; an unknown or malformed flag is a usage error naming it. */
export function parseFlags(args: string[], extra: Record<string, { type: 'string' | 'boolean'; short?: string }> = {}) {
  try {
    return parseArgs({ args, options: { ...settingFlags(), ...extra }, strict: true, allowPositionals: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${message.replace(/^Unknown option/, 'unknown flag')}; see parley --help`);
  }
}

function configFrom(args: string[]): { config: Config; positionals: string[] } {
  const { values, positionals } = parseFlags(args);
  return { config: loadConfig(process.env, values as Record<string, string>), positionals };
}

async function startCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { demo: { type: 'boolean' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" for parley start`);
  const { demo, ...settings } = values as Record<string, string | undefined> & { demo?: boolean };
  const config = loadConfig(process.env, settings);
  const print = (line: string) => console.log(line);
  // the demo keeps its data apart, so trying it never mixes with real channels
  const parley = demo ? await startDemo({ ...config, dataDir: join(config.dataDir, 'demo'), databaseUrl: undefined }, print) : await startParley(config, { print });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      // a second Ctrl-C means "now"; a repeated SIGTERM (supervisors may send several) waits
      if (stopping) {
        if (signal === 'SIGTERM') return;
        console.error(`parley: ${signal} again, exiting without waiting`);
        process.exit(1);
      }
      stopping = true;
      console.log(`Parley is stopping (${signal}): finishing requests and jobs...`);
      parley.stop().then(resolve, (error: Error) => {
        console.error(`parley: error while stopping: ${error.message}`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  console.log('Parley stopped.');
  return 0;
}

async function migrateCommand(args: string[]): Promise<number> {
  const { config } = configFrom(args);
  const database = await openConfiguredDatabase(config);
  try {
    const applied = await migrateToLatest(database.db);
    console.log(applied.length ? `Applied ${applied.join(', ')} on ${databaseLabel(config)}` : `${databaseLabel(config)} is up to date`);
  } finally {
    await database.close();
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    console.log(help());
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-v') {
    console.log(version);
    return 0;
  }
  const command = COMMANDS[first];
  try {
    if (!command) throw new UsageError(`unknown command "${first}"; commands: ${Object.keys(COMMANDS).join(', ')} (see parley --help)`);
    if (first !== 'sandbox' && (rest.includes('--help') || rest.includes('-h'))) {
      console.log(help());
      return 0;
    }
    return await command.run(rest);
  } catch (error) {
    const usage = error instanceof UsageError || error instanceof ConfigError || error instanceof SecretKeyError;
    const known = usage || error instanceof DataFolderLockedError || error instanceof SchemaTooNewError || error instanceof DomainError;
    console.error(`parley: ${known ? (error as Error).message : (error as Error).stack ?? String(error)}`);
    return usage ? 2 : 1;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
