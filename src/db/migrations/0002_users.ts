import { sql, type Kysely } from 'kysely';

/**
 * Who may use Parley and what they did: users and their roles, browser sessions, personal API
 * tokens, the audit log, and the failed sign-ins that slow down password guessing. Session ids and
 * tokens are stored only as SHA-256 hashes, passwords only as Argon2id hashes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE users (
      id bigserial PRIMARY KEY,
      email text NOT NULL CHECK (email = lower(email) AND email <> ''),
      name text NOT NULL,
      role text NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
      password_hash text NOT NULL,
      must_change_password boolean NOT NULL DEFAULT false,
      disabled_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_email ON users (email);

    CREATE TABLE sessions (
      id_hash text PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      csrf_token text NOT NULL,
      ip text,
      user_agent text,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX sessions_user ON sessions (user_id);
    CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

    CREATE TABLE api_tokens (
      id bigserial PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      name text NOT NULL,
      token_hash text NOT NULL UNIQUE,
      prefix text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    );
    CREATE INDEX api_tokens_user ON api_tokens (user_id, id);

    CREATE TABLE audit_log (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      actor_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
      actor_label text NOT NULL,
      action text NOT NULL,
      target_type text,
      target_id text,
      details jsonb NOT NULL DEFAULT '{}',
      ip text,
      user_agent text
    );
    CREATE INDEX audit_log_action ON audit_log (action, id);
    CREATE INDEX audit_log_actor ON audit_log (actor_user_id, id);
    CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);

    -- Failed sign-ins of the last minutes, per account and per address: kept in the database so
    -- that every instance slows the same guesser down.
    CREATE TABLE sign_in_failures (
      id bigserial PRIMARY KEY,
      email text NOT NULL,
      ip text NOT NULL,
      at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX sign_in_failures_email ON sign_in_failures (email, at);
    CREATE INDEX sign_in_failures_ip ON sign_in_failures (ip, at);
    CREATE INDEX sign_in_failures_at ON sign_in_failures (at);
  `.execute(db);
}
