import { SYSTEM_ACTORS } from './core/audit/log.ts';
import { DomainError } from './core/errors.ts';
import { checkPasswordPolicy } from './core/users/passwords.ts';
import { isRole, ROLES } from './core/users/roles.ts';
import { createUser, findUserByEmail, resetPassword } from './core/users/users.ts';
import { loadConfig } from './config.ts';
import { migrateToLatest } from './db/migrate.ts';
import { openConfiguredDatabase } from './runtime.ts';

/**
 * `parley user add` and `parley user reset-password`: managing users from the command line, for
 * the first administrator and for an administrator locked out. The database is migrated first, so
 * this works on a fresh install before the first start.
 */
export interface UserCommandDeps {
  parseFlags: (args: string[], extra: Record<string, { type: 'string' | 'boolean' }>) => { values: Record<string, string | boolean | undefined>; positionals: string[] };
  usageError: (message: string) => Error;
}

const SUBCOMMANDS = ['add', 'reset-password'];

/** Reads a password typed at the terminal without showing it. */
async function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  process.stdout.write(question);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = '';
      const onData = (chunk: string) => {
        for (const char of chunk) {
          if (char === '\r' || char === '\n' || char === '\u0004') {
            input.off('data', onData);
            process.stdout.write('\n');
            resolve(typed);
            return;
          }
          if (char === '\u0003') {
            input.off('data', onData);
            process.stdout.write('\n');
            reject(new DomainError('invalid', 'cancelled'));
            return;
          }
          if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
          else typed += char;
        }
      };
      input.on('data', onData);
    });
  } finally {
    input.setRawMode(false);
    input.pause();
  }
}

async function readStdin(): Promise<string> {
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

/** The password chosen on the terminal, from standard input, or none (a one-time password is generated). */
async function choosePassword(fromStdin: boolean, usageError: (message: string) => Error): Promise<string | undefined> {
  if (fromStdin) {
    const password = await readStdin();
    try {
      checkPasswordPolicy(password);
    } catch (error) {
      throw usageError(`invalid password from --password-stdin: ${(error as Error).message.replace(/^password: /, '')}`);
    }
    return password;
  }
  if (!process.stdin.isTTY || !process.stdout.isTTY) return undefined;
  for (;;) {
    const password = await promptHidden('Password (at least 12 characters): ');
    try {
      checkPasswordPolicy(password);
    } catch (error) {
      console.log((error as Error).message.replace(/^password: /, 'The password '));
      continue;
    }
    if ((await promptHidden('Password again: ')) === password) return password;
    console.log('The two passwords differ; try again.');
  }
}

export async function userCommand(args: string[], deps: UserCommandDeps): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || !SUBCOMMANDS.includes(sub)) {
    const missing = !sub || sub.startsWith('-');
    throw deps.usageError(`${missing ? 'missing subcommand for' : `unknown subcommand "${sub}" for`} parley user; use: parley user add --email <email> --role <${ROLES.join('|')}> [--name <name>] [--password-stdin], or parley user reset-password --email <email>`);
  }
  const { values, positionals } = deps.parseFlags(rest, { email: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' }, 'password-stdin': { type: 'boolean' } });
  if (positionals.length > 0) throw deps.usageError(`unexpected argument "${positionals[0]}" for parley user ${sub}`);
  const email = values.email;
  if (typeof email !== 'string' || email === '') throw deps.usageError(`missing --email for parley user ${sub}`);
  const settings = Object.fromEntries(Object.entries(values).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  const config = loadConfig(process.env, settings);

  let role: (typeof ROLES)[number] | undefined;
  let password: string | undefined;
  if (sub === 'add') {
    if (!isRole(values.role)) {
      throw deps.usageError(values.role === undefined ? 'missing --role for parley user add (admin, supervisor or agent)' : `invalid --role "${String(values.role)}": expected one of ${ROLES.join(', ')}`);
    }
    role = values.role;
    password = await choosePassword(values['password-stdin'] === true, deps.usageError);
  }

  const database = await openConfiguredDatabase(config);
  try {
    await migrateToLatest(database.db);
    if (sub === 'add') {
      const name = typeof values.name === 'string' ? values.name : undefined;
      const { user, oneTimePassword } = await createUser(database.db, { email, role: role!, name, password }, SYSTEM_ACTORS.commandLine).catch((error: unknown) => {
        if (error instanceof DomainError && error.kind === 'invalid' && error.field) {
          throw deps.usageError(`invalid --${error.field} "${String(values[error.field])}": ${error.message.replace(/^[^:]+: /, '')}`);
        }
        throw error;
      });
      console.log(`Created ${user.role} ${user.email} (${user.name}).`);
      if (oneTimePassword) printOneTimePassword(oneTimePassword);
    } else {
      const user = await findUserByEmail(database.db, email);
      if (!user) throw new DomainError('not_found', `no user with the email ${email}`);
      const { oneTimePassword } = await resetPassword(database.db, user.id, SYSTEM_ACTORS.commandLine);
      console.log(`New password for ${user.email}; their sessions ended.`);
      printOneTimePassword(oneTimePassword);
    }
  } finally {
    await database.close();
  }
  return 0;
}

function printOneTimePassword(password: string): void {
  console.log('One-time password (shown only now; it must be replaced at the first sign-in):');
  console.log(`  ${password}`);
}
