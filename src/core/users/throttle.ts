import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.ts';

/**
 * Slows down password guessing. Failed sign-ins of the last WINDOW are counted per account and per
 * address; past a few free failures, each further attempt must wait twice as long after the last
 * failure as the one before (1 s, 2 s, 4 s, ... up to 15 min). The failures live in the database
 * so that every instance behind a load balancer applies the same limit.
 */
export const SIGN_IN_LIMITS = {
  windowMinutes: 15,
  freeFailuresPerAccount: 5,
  freeFailuresPerAddress: 20,
  maxDelaySeconds: 15 * 60,
} as const;

function delayAfter(failures: number, free: number): number {
  if (failures < free) return 0;
  return Math.min(2 ** (failures - free), SIGN_IN_LIMITS.maxDelaySeconds);
}

/** Seconds to wait before this email may be tried again from this address; 0 when it may now. */
export async function signInWait(db: Kysely<DB>, email: string, ip: string): Promise<number> {
  const { rows } = await sql<{ account: number; account_last: Date | null; address: number; address_last: Date | null; now: Date }>`
    SELECT count(*) FILTER (WHERE email = ${email})::int AS account,
           max(at) FILTER (WHERE email = ${email}) AS account_last,
           count(*) FILTER (WHERE ip = ${ip})::int AS address,
           max(at) FILTER (WHERE ip = ${ip}) AS address_last,
           now() AS now
      FROM sign_in_failures
     WHERE (email = ${email} OR ip = ${ip})
       AND at > now() - make_interval(mins => ${SIGN_IN_LIMITS.windowMinutes})
  `.execute(db);
  const row = rows[0]!;
  const now = row.now.getTime();
  const wait = (count: number, last: Date | null, free: number) =>
    last ? Math.max(0, last.getTime() + delayAfter(count, free) * 1000 - now) : 0;
  const ms = Math.max(
    wait(row.account, row.account_last, SIGN_IN_LIMITS.freeFailuresPerAccount),
    wait(row.address, row.address_last, SIGN_IN_LIMITS.freeFailuresPerAddress),
  );
  return Math.ceil(ms / 1000);
}

export async function recordSignInFailure(db: Kysely<DB>, email: string, ip: string): Promise<void> {
  await db.insertInto('sign_in_failures').values({ email, ip }).execute();
  // Forget what no longer counts, so the table stays as small as the window.
  await db.deleteFrom('sign_in_failures').where('at', '<', sql<Date>`now() - make_interval(mins => ${SIGN_IN_LIMITS.windowMinutes})`).execute();
}

/** A successful sign-in forgives the account's failures (never the address's: one known password must not unlock guessing others). */
export async function forgiveSignInFailures(db: Kysely<DB>, email: string): Promise<void> {
  await db.deleteFrom('sign_in_failures').where('email', '=', email).execute();
}
