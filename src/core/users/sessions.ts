import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.ts';
import { newSecret, secretHash } from './credentials.ts';
import type { Role } from './roles.ts';

/**
 * Browser sessions. A session ends when its user signs out, is disabled, or stays idle longer than
 * the configured minutes. Time is the database's clock, the same for every instance.
 */

/** Who is asking, as the routes see them. */
export interface AuthUser {
  id: number;
  email: string;
  name: string;
  role: Role;
  mustChangePassword: boolean;
}

export interface SessionContext {
  ip?: string | null;
  userAgent?: string | null;
}

export interface NewSession {
  /** The cookie value: handed to the browser, never stored. */
  secret: string;
  idHash: string;
  /** Sent back in the `x-csrf-token` header with every state-changing request. */
  csrfToken: string;
}

export async function createSession(db: Kysely<DB>, userId: number, idleMinutes: number, context: SessionContext = {}): Promise<NewSession> {
  const secret = newSecret();
  const session = { secret, idHash: secretHash(secret), csrfToken: newSecret() };
  await db
    .insertInto('sessions')
    .values({ id_hash: session.idHash, user_id: userId, csrf_token: session.csrfToken, ip: context.ip ?? null, user_agent: context.userAgent?.slice(0, 512) ?? null })
    .execute();
  // Sweep the sessions that expired since, so the table holds only live ones.
  await db.deleteFrom('sessions').where('last_seen_at', '<', sql<Date>`now() - make_interval(mins => ${idleMinutes})`).execute();
  return session;
}

// Recording every request's time would write on every read; a minute's precision is plenty.
const TOUCH_AFTER_SECONDS = 60;

/** The user of a live session (and its CSRF token), or undefined when it ended or expired. */
export async function resolveSession(db: Kysely<DB>, secret: string, idleMinutes: number): Promise<{ user: AuthUser; idHash: string; csrfToken: string } | undefined> {
  const idHash = secretHash(secret);
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['u.id', 'u.email', 'u.name', 'u.role', 'u.must_change_password', 's.csrf_token'])
    .select(sql<boolean>`s.last_seen_at < now() - make_interval(secs => ${TOUCH_AFTER_SECONDS})`.as('stale'))
    .where('s.id_hash', '=', idHash)
    .where('u.disabled_at', 'is', null)
    .where('s.last_seen_at', '>', sql<Date>`now() - make_interval(mins => ${idleMinutes})`)
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.stale) await db.updateTable('sessions').set({ last_seen_at: sql`now()` }).where('id_hash', '=', idHash).execute();
  return {
    user: { id: row.id, email: row.email, name: row.name, role: row.role, mustChangePassword: row.must_change_password },
    idHash,
    csrfToken: row.csrf_token,
  };
}

export async function endSession(db: Kysely<DB>, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}
