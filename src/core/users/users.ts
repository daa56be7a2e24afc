import type { Kysely, Selectable } from 'kysely';
import type { DB, UsersTable } from '../../db/schema.ts';
import { audit, type Actor } from '../audit/log.ts';
import { conflict, invalid, isUniqueViolation, notFound } from '../errors.ts';
import { checkPasswordPolicy, generateOneTimePassword, hashPassword, verifyPassword } from './passwords.ts';
import { isRole, type Role } from './roles.ts';

/** A person who signs in to Parley, with one role. */
export interface User {
  id: number;
  email: string;
  name: string;
  role: Role;
  mustChangePassword: boolean;
  disabledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    mustChangePassword: row.must_change_password,
    disabledAt: row.disabled_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;
export const MAX_NAME_LENGTH = 200;

/** Emails are compared without case: `Ana@Example.com` and `ana@example.com` are one account. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function checkEmail(email: string): string {
  const normalized = normalizeEmail(email);
  if (!EMAIL.test(normalized) || normalized.length > 320) throw invalid('email', 'must be an email address such as ana@example.com');
  return normalized;
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw invalid('name', 'must not be empty');
  if (trimmed.length > MAX_NAME_LENGTH) throw invalid('name', `must be at most ${MAX_NAME_LENGTH} characters long`);
  return trimmed;
}

export interface NewUser {
  email: string;
  role: Role;
  /** Defaults to the part of the email before the @. */
  name?: string;
  /** Without one, a one-time password is generated and returned. */
  password?: string;
  /** The user must choose a new password at first sign-in (always so for a generated one). */
  mustChangePassword?: boolean;
}

export async function createUser(db: Kysely<DB>, input: NewUser, actor: Actor): Promise<{ user: User; oneTimePassword?: string }> {
  const email = checkEmail(input.email);
  if (!isRole(input.role)) throw invalid('role', 'must be admin, supervisor or agent');
  const name = checkName(input.name ?? email.split('@')[0]!);
  if (input.password !== undefined) checkPasswordPolicy(input.password);
  const oneTimePassword = input.password === undefined ? generateOneTimePassword() : undefined;
  const passwordHash = await hashPassword(input.password ?? oneTimePassword!);
  try {
    const row = await db.transaction().execute(async (trx) => {
      const created = await trx
        .insertInto('users')
        .values({ email, name, role: input.role, password_hash: passwordHash, must_change_password: oneTimePassword !== undefined || (input.mustChangePassword ?? false) })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(trx, { actor, action: 'user.created', target: { type: 'user', id: created.id }, details: { email, name, role: input.role } });
      return created;
    });
    return { user: toUser(row), oneTimePassword };
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(`a user with the email ${email} already exists`);
    throw error;
  }
}

export async function getUser(db: Kysely<DB>, id: number): Promise<User> {
  const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('user');
  return toUser(row);
}

export async function findUserByEmail(db: Kysely<DB>, email: string): Promise<(User & { passwordHash: string }) | undefined> {
  const row = await db.selectFrom('users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst();
  return row && { ...toUser(row), passwordHash: row.password_hash };
}

export async function hasActiveAdmin(db: Kysely<DB>): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where('role', '=', 'admin').where('disabled_at', 'is', null).limit(1).executeTakeFirst();
  return row !== undefined;
}

export interface UserQuery {
  role?: Role;
  status?: 'active' | 'disabled';
  limit?: number;
  offset?: number;
}

export async function listUsers(db: Kysely<DB>, query: UserQuery = {}): Promise<{ users: User[]; total: number }> {
  let q = db.selectFrom('users');
  if (query.role) q = q.where('role', '=', query.role);
  if (query.status) q = q.where('disabled_at', query.status === 'active' ? 'is' : 'is not', null);
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('email').limit(query.limit ?? 100).offset(query.offset ?? 0).execute(),
    q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
  ]);
  return { users: rows.map(toUser), total: Number(count.total) };
}

/**
 * Locks the active admins (so two admins demoting or disabling each other at once cannot leave
 * nobody in charge) and refuses when `id` is the last one.
 */
async function keepAnAdmin(trx: Kysely<DB>, id: number, what: string): Promise<void> {
  const admins = await trx.selectFrom('users').select('id').where('role', '=', 'admin').where('disabled_at', 'is', null).forUpdate().execute();
  if (admins.length === 1 && admins[0]!.id === id) throw conflict(`${what}: this is the last active administrator`);
}

export interface UserChanges {
  name?: string;
  role?: Role;
}

export async function updateUser(db: Kysely<DB>, id: number, changes: UserChanges, actor: Actor): Promise<User> {
  const name = changes.name === undefined ? undefined : checkName(changes.name);
  if (changes.role !== undefined && !isRole(changes.role)) throw invalid('role', 'must be admin, supervisor or agent');
  const row = await db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('users').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!before) throw notFound('user');
    const roleChanged = changes.role !== undefined && changes.role !== before.role;
    const nameChanged = name !== undefined && name !== before.name;
    if (!roleChanged && !nameChanged) return before;
    if (roleChanged && before.role === 'admin' && !before.disabled_at) await keepAnAdmin(trx, id, 'cannot change the role');
    const after = await trx
      .updateTable('users')
      .set({ ...(nameChanged ? { name } : {}), ...(roleChanged ? { role: changes.role } : {}), updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const target = { type: 'user', id };
    if (nameChanged) await audit(trx, { actor, action: 'user.updated', target, details: { email: before.email, name: { from: before.name, to: name } } });
    if (roleChanged) await audit(trx, { actor, action: 'user.role_changed', target, details: { email: before.email, role: { from: before.role, to: changes.role } } });
    return after;
  });
  return toUser(row);
}

/**
 * Disabling ends the user's sessions and revokes their API tokens at once; enabling lets them sign
 * in again (with new tokens).
 */
export async function setUserDisabled(db: Kysely<DB>, id: number, disabled: boolean, actor: Actor): Promise<User> {
  const row = await db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('users').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!before) throw notFound('user');
    if (disabled === (before.disabled_at !== null)) return before;
    if (disabled) {
      if (actor.userId === id) throw conflict('you cannot disable yourself');
      if (before.role === 'admin') await keepAnAdmin(trx, id, 'cannot disable');
    }
    const now = new Date();
    const after = await trx.updateTable('users').set({ disabled_at: disabled ? now : null, updated_at: now }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    let details: Record<string, unknown> = { email: before.email };
    if (disabled) {
      const sessions = await trx.deleteFrom('sessions').where('user_id', '=', id).executeTakeFirst();
      const tokens = await trx.updateTable('api_tokens').set({ revoked_at: now }).where('user_id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      details = { ...details, sessionsEnded: Number(sessions.numDeletedRows), tokensRevoked: Number(tokens.numUpdatedRows) };
    }
    await audit(trx, { actor, action: disabled ? 'user.disabled' : 'user.enabled', target: { type: 'user', id }, details });
    return after;
  });
  return toUser(row);
}

/**
 * A user replaces their own password: the current one is checked, their other sessions end (a
 * thief's among them), the session in use (`keepSessionHash`) stays.
 */
export async function changeOwnPassword(
  db: Kysely<DB>,
  userId: number,
  passwords: { current: string; next: string },
  actor: Actor,
  keepSessionHash?: string,
): Promise<User> {
  const row = await db.selectFrom('users').select(['password_hash', 'email']).where('id', '=', userId).executeTakeFirst();
  if (!row) throw notFound('user');
  if (!(await verifyPassword(row.password_hash, passwords.current))) throw invalid('currentPassword', 'is not your current password');
  checkPasswordPolicy(passwords.next, 'newPassword');
  if (passwords.next === passwords.current) throw invalid('newPassword', 'must differ from the current password');
  const passwordHash = await hashPassword(passwords.next);
  const after = await db.transaction().execute(async (trx) => {
    const updated = await trx.updateTable('users').set({ password_hash: passwordHash, must_change_password: false, updated_at: new Date() }).where('id', '=', userId).returningAll().executeTakeFirstOrThrow();
    let ended = trx.deleteFrom('sessions').where('user_id', '=', userId);
    if (keepSessionHash) ended = ended.where('id_hash', '<>', keepSessionHash);
    const result = await ended.executeTakeFirst();
    await audit(trx, { actor, action: 'user.password_changed', target: { type: 'user', id: userId }, details: { email: row.email, otherSessionsEnded: Number(result.numDeletedRows) } });
    return updated;
  });
  return toUser(after);
}

/** An admin gives a user a new one-time password (they forgot theirs): their sessions end. */
export async function resetPassword(db: Kysely<DB>, id: number, actor: Actor): Promise<{ user: User; oneTimePassword: string }> {
  const oneTimePassword = generateOneTimePassword();
  const passwordHash = await hashPassword(oneTimePassword);
  const row = await db.transaction().execute(async (trx) => {
    const updated = await trx.updateTable('users').set({ password_hash: passwordHash, must_change_password: true, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirst();
    if (!updated) throw notFound('user');
    await trx.deleteFrom('sessions').where('user_id', '=', id).execute();
    await audit(trx, { actor, action: 'user.password_reset', target: { type: 'user', id }, details: { email: updated.email } });
    return updated;
  });
  return { user: toUser(row), oneTimePassword };
}
