import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.ts';

/**
 * The audit log: who did what to which thing, when and from where, for every security- and
 * configuration-relevant action. Write it in the same transaction as the change it records, so a
 * change is never without its entry (and an entry never without its change).
 */

/** Who acted: a signed-in user, or the command line / the system (userId null). */
export interface Actor {
  userId: number | null;
  /** Shown in the log: the user's email, or e.g. "command line". */
  label: string;
  ip?: string | null;
  userAgent?: string | null;
}

export interface AuditEntry {
  actor: Actor;
  /** `<area>.<what happened>`, e.g. `user.created`, `auth.sign_in_failed`, `channel.updated`. */
  action: string;
  target?: { type: string; id: string | number | null };
  /** What changed, in plain values. Never secrets: keys that look like one are redacted anyway. */
  details?: Record<string, unknown>;
}

export const SYSTEM_ACTORS = {
  commandLine: { userId: null, label: 'command line' } satisfies Actor,
} as const;

const SECRET_KEY = /pass(word)?|secret|token|hash|credential|api_?key|private|cookie|session_?id/i;
// Keys that name a secret without holding one (a token's id, name or display prefix).
const HARMLESS_KEY = /(Id|_id|Name|_name|Prefix|_prefix)$/;

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => [key, typeof v === 'string' && SECRET_KEY.test(key) && !HARMLESS_KEY.test(key) ? '[redacted]' : redact(v)]),
    );
  }
  return value;
}

/** Records one action. `executor` is the database or the transaction that makes the change. */
export async function audit(executor: Kysely<DB>, entry: AuditEntry): Promise<void> {
  await executor
    .insertInto('audit_log')
    .values({
      actor_user_id: entry.actor.userId,
      actor_label: entry.actor.label,
      action: entry.action,
      target_type: entry.target?.type ?? null,
      target_id: entry.target?.id === undefined || entry.target.id === null ? null : String(entry.target.id),
      details: JSON.stringify(redact(entry.details ?? {})),
      ip: entry.actor.ip ?? null,
      user_agent: entry.actor.userAgent?.slice(0, 512) ?? null,
    })
    .execute();
}

export interface AuditRecord {
  id: number;
  at: Date;
  actor: { userId: number | null; label: string };
  action: string;
  target: { type: string; id: string | null } | null;
  details: Record<string, unknown>;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditQuery {
  /** Exact action, or an area prefix ending in a dot (`user.`). */
  action?: string;
  actorUserId?: number;
  targetType?: string;
  targetId?: string;
  since?: Date;
  until?: Date;
  /** Entries older than this id (the `nextBefore` of the previous page). */
  before?: number;
  limit?: number;
}

/** The newest entries first, one page at a time. */
export async function listAudit(db: Kysely<DB>, query: AuditQuery): Promise<{ entries: AuditRecord[]; nextBefore: number | null }> {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
  let q = db.selectFrom('audit_log').selectAll();
  if (query.action) {
    q = query.action.endsWith('.')
      ? q.where(sql<boolean>`starts_with(action, ${query.action})`)
      : q.where('action', '=', query.action);
  }
  if (query.actorUserId !== undefined) q = q.where('actor_user_id', '=', query.actorUserId);
  if (query.targetType) q = q.where('target_type', '=', query.targetType);
  if (query.targetId) q = q.where('target_id', '=', query.targetId);
  if (query.since) q = q.where('at', '>=', query.since);
  if (query.until) q = q.where('at', '<', query.until);
  if (query.before !== undefined) q = q.where('id', '<', query.before);
  const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  return {
    entries: page.map((row) => ({
      id: row.id,
      at: row.at,
      actor: { userId: row.actor_user_id, label: row.actor_label },
      action: row.action,
      target: row.target_type ? { type: row.target_type, id: row.target_id } : null,
      details: row.details,
      ip: row.ip,
      userAgent: row.user_agent,
    })),
    nextBefore: rows.length > limit ? page.at(-1)!.id : null,
  };
}
