import { sql, type Kysely, type Selectable } from 'kysely';
import type { ApiTokensTable, DB } from '../../db/schema.ts';
import { audit, type Actor } from '../audit/log.ts';
import { invalid, notFound } from '../errors.ts';
import { newSecret, secretHash } from './credentials.ts';
import type { AuthUser } from './sessions.ts';

/**
 * Personal API tokens, for integrators and scripts: a token acts as its user, with their role.
 * The token is shown once at creation; afterwards only its prefix identifies it.
 */
export const TOKEN_PREFIX = 'parley_';
const SHOWN_PREFIX_LENGTH = TOKEN_PREFIX.length + 6;
export const MAX_TOKEN_NAME_LENGTH = 100;

export interface ApiToken {
  id: number;
  name: string;
  /** The first characters of the token, to recognise it, e.g. `parley_x7Kq2b…`. */
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function toToken(row: Selectable<ApiTokensTable>): ApiToken {
  return { id: row.id, name: row.name, prefix: row.prefix, createdAt: row.created_at, lastUsedAt: row.last_used_at, revokedAt: row.revoked_at };
}

export async function createToken(db: Kysely<DB>, userId: number, name: string, actor: Actor): Promise<{ token: ApiToken; secret: string }> {
  const trimmed = name.trim();
  if (trimmed === '') throw invalid('name', 'must not be empty');
  if (trimmed.length > MAX_TOKEN_NAME_LENGTH) throw invalid('name', `must be at most ${MAX_TOKEN_NAME_LENGTH} characters long`);
  const secret = `${TOKEN_PREFIX}${newSecret()}`;
  const row = await db.transaction().execute(async (trx) => {
    const created = await trx
      .insertInto('api_tokens')
      .values({ user_id: userId, name: trimmed, token_hash: secretHash(secret), prefix: `${secret.slice(0, SHOWN_PREFIX_LENGTH)}…` })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, { actor, action: 'token.created', target: { type: 'api_token', id: created.id }, details: { tokenName: trimmed, tokenPrefix: created.prefix, userId } });
    return created;
  });
  return { token: toToken(row), secret };
}

export async function listTokens(db: Kysely<DB>, userId: number): Promise<ApiToken[]> {
  const rows = await db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).orderBy('id', 'desc').execute();
  return rows.map(toToken);
}

/** Revokes one of the user's own tokens; someone else's is "not found". */
export async function revokeToken(db: Kysely<DB>, userId: number, tokenId: number, actor: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('api_tokens')
      .set({ revoked_at: sql`coalesce(revoked_at, now())` })
      .where('id', '=', tokenId)
      .where('user_id', '=', userId)
      .returning(['id', 'name', 'prefix'])
      .executeTakeFirst();
    if (!row) throw notFound('API token');
    await audit(trx, { actor, action: 'token.revoked', target: { type: 'api_token', id: row.id }, details: { tokenName: row.name, tokenPrefix: row.prefix, userId } });
  });
}

const TOUCH_AFTER_SECONDS = 60;

/** The user a live token acts for, or undefined (unknown, revoked, or its user disabled). */
export async function resolveToken(db: Kysely<DB>, secret: string): Promise<{ user: AuthUser; tokenId: number } | undefined> {
  if (!secret.startsWith(TOKEN_PREFIX)) return undefined;
  const row = await db
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select(['t.id as token_id', 'u.id', 'u.email', 'u.name', 'u.role', 'u.must_change_password'])
    .select(sql<boolean>`t.last_used_at IS NULL OR t.last_used_at < now() - make_interval(secs => ${TOUCH_AFTER_SECONDS})`.as('stale'))
    .where('t.token_hash', '=', secretHash(secret))
    .where('t.revoked_at', 'is', null)
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.stale) await db.updateTable('api_tokens').set({ last_used_at: sql`now()` }).where('id', '=', row.token_id).execute();
  return { user: { id: row.id, email: row.email, name: row.name, role: row.role, mustChangePassword: row.must_change_password }, tokenId: row.token_id };
}
