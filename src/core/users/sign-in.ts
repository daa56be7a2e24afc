import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.ts';
import { audit } from '../audit/log.ts';
import { DomainError } from '../errors.ts';
import { spendPasswordCheck, verifyPassword } from './passwords.ts';
import { createSession, type NewSession, type SessionContext } from './sessions.ts';
import { forgiveSignInFailures, recordSignInFailure, signInWait } from './throttle.ts';
import { findUserByEmail, normalizeEmail, type User } from './users.ts';

/**
 * Signing in with email and password. Every way of failing (unknown email, wrong password,
 * disabled account) answers the same and takes about the same time, so the answer tells a
 * guesser nothing; the reason is kept in the audit log for admins.
 */
export const BAD_CREDENTIALS = 'the email or the password is wrong';

export async function signIn(
  db: Kysely<DB>,
  credentials: { email: string; password: string },
  context: SessionContext & { ip: string },
  idleMinutes: number,
): Promise<{ user: User; session: NewSession }> {
  const email = normalizeEmail(credentials.email);
  const wait = await signInWait(db, email, context.ip);
  if (wait > 0) {
    throw new DomainError('rate_limited', `too many failed sign-ins: try again in ${wait} s`, { retryAfterSeconds: wait });
  }
  const user = await findUserByEmail(db, email);
  let reason: string | undefined;
  if (!user) {
    await spendPasswordCheck(credentials.password);
    reason = 'unknown email';
  } else if (!(await verifyPassword(user.passwordHash, credentials.password))) {
    reason = 'wrong password';
  } else if (user.disabledAt) {
    reason = 'account disabled';
  }
  const actor = { userId: user?.id ?? null, label: email, ip: context.ip, userAgent: context.userAgent };
  if (reason) {
    await recordSignInFailure(db, email, context.ip);
    await audit(db, { actor, action: 'auth.sign_in_failed', target: { type: 'user', id: user?.id ?? null }, details: { email, reason } });
    throw new DomainError('bad_credentials', BAD_CREDENTIALS);
  }
  const { passwordHash: _hash, ...signedIn } = user!;
  await forgiveSignInFailures(db, email);
  const session = await createSession(db, signedIn.id, idleMinutes, context);
  await audit(db, { actor, action: 'auth.sign_in', target: { type: 'user', id: signedIn.id }, details: { email, method: 'password' } });
  return { user: signedIn, session };
}
