import { sql, type Kysely } from 'kysely';

/** Durable background jobs: the queue every kind of background work shares. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE jobs (
      id bigserial PRIMARY KEY,
      queue text NOT NULL,
      payload jsonb NOT NULL DEFAULT '{}',
      state text NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'running', 'dead')),
      run_at timestamptz NOT NULL DEFAULT now(),
      attempts integer NOT NULL DEFAULT 0,
      max_attempts integer NOT NULL DEFAULT 10,
      group_key text,
      singleton_key text,
      locked_by text,
      locked_until timestamptz,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    -- claiming walks ready jobs in time order across all queues an instance handles: the index
    -- gives that order directly instead of sorting every ready job at each claim
    CREATE INDEX jobs_ready ON jobs (run_at, id) WHERE state = 'ready';
    CREATE INDEX jobs_lease ON jobs (locked_until) WHERE state = 'running';
    CREATE INDEX jobs_group ON jobs (group_key, id) WHERE group_key IS NOT NULL AND state <> 'dead';
    CREATE UNIQUE INDEX jobs_singleton ON jobs (singleton_key) WHERE singleton_key IS NOT NULL AND state <> 'dead';

    -- Wake the workers of a queue when jobs are added, whoever adds them; one notification per
    -- queue and statement, delivered at commit.
    CREATE FUNCTION parley_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('parley_jobs', q.queue) FROM (SELECT DISTINCT queue FROM new_jobs) q;
      RETURN NULL;
    END $$;
    CREATE TRIGGER jobs_notify AFTER INSERT ON jobs
      REFERENCING NEW TABLE AS new_jobs FOR EACH STATEMENT EXECUTE FUNCTION parley_jobs_notify();
  `.execute(db);
}
