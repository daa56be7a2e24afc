import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.ts';

/**
 * A token bucket per sender (a page, a WhatsApp number, a LINE channel) kept in one database
 * row, so every worker of every instance draws from the same bucket. One atomic statement
 * refills it for the time passed (up to one second's worth) and takes a token if there is one;
 * the answer says how long to wait otherwise.
 */
export async function takeSendToken(db: Kysely<DB>, sender: string, perSecond: number): Promise<{ ok: true } | { ok: false; waitMs: number }> {
  const refilled = sql<number>`least(${perSecond}::float8, send_buckets.tokens + extract(epoch FROM clock_timestamp() - send_buckets.refilled_at) * ${perSecond}::float8)`;
  const taken = await sql<{ tokens: number }>`
    INSERT INTO send_buckets (sender, tokens, refilled_at) VALUES (${sender}, ${perSecond - 1}::float8, clock_timestamp())
    ON CONFLICT (sender) DO UPDATE SET tokens = ${refilled} - 1, refilled_at = clock_timestamp()
      WHERE ${refilled} >= 1
    RETURNING tokens`.execute(db);
  if (taken.rows.length > 0) return { ok: true };
  const { rows } = await sql<{ tokens: number }>`
    SELECT least(${perSecond}::float8, tokens + extract(epoch FROM clock_timestamp() - refilled_at) * ${perSecond}::float8) AS tokens
    FROM send_buckets WHERE sender = ${sender}`.execute(db);
  const missing = Math.max(0, 1 - Number(rows[0]?.tokens ?? 0));
  return { ok: false, waitMs: Math.max(5, Math.ceil((missing / perSecond) * 1000)) };
}
