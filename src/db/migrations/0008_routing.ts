import { sql, type Kysely } from 'kysely';

/**
 * Work distribution: queues with their members and overflow, routing rules per workstream,
 * agents (presence, capacity, skills), offers, and the record of every conversation transition.
 * Conversations learn their workstream, queue, priority, required skills and assigned agent.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE queues (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL CHECK (name <> ''),
      -- larger is served first when agents are scarce
      priority integer NOT NULL DEFAULT 0,
      assignment_method text NOT NULL DEFAULT 'highest-capacity',
      max_size integer CHECK (max_size IS NULL OR max_size >= 0),
      -- [{"when": "full" | "waiting" | "outside-hours", "afterMinutes"?: n, "action": {...}}]
      overflow jsonb NOT NULL DEFAULT '[]',
      -- round robin continues after this agent
      last_assigned_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX queues_name ON queues (lower(name));

    CREATE TABLE agents (
      user_id bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
      presence text NOT NULL DEFAULT 'offline' CHECK (presence IN ('available', 'busy', 'do-not-disturb', 'away', 'offline')),
      -- busy set by Parley because capacity is full: it goes back to available when capacity frees
      presence_automatic boolean NOT NULL DEFAULT false,
      presence_changed_at timestamptz NOT NULL DEFAULT now(),
      capacity integer NOT NULL DEFAULT 100 CHECK (capacity >= 0),
      used_capacity integer NOT NULL DEFAULT 0 CHECK (used_capacity >= 0),
      missed_offers integer NOT NULL DEFAULT 0,
      last_assigned_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE agent_skills (
      user_id bigint NOT NULL REFERENCES agents (user_id) ON DELETE CASCADE,
      skill text NOT NULL CHECK (skill <> ''),
      proficiency integer NOT NULL CHECK (proficiency BETWEEN 1 AND 10),
      PRIMARY KEY (user_id, skill)
    );

    CREATE TABLE queue_members (
      queue_id uuid NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
      user_id bigint NOT NULL REFERENCES agents (user_id) ON DELETE CASCADE,
      -- the order round robin walks
      position integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (queue_id, user_id)
    );
    CREATE INDEX queue_members_user ON queue_members (user_id);

    ALTER TABLE workstreams ADD COLUMN default_queue_id uuid REFERENCES queues (id) ON DELETE SET NULL;
    ALTER TABLE workstreams ADD COLUMN skill_matching text NOT NULL DEFAULT 'closest' CHECK (skill_matching IN ('exact', 'closest'));

    CREATE TABLE routing_rules (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      workstream_id uuid NOT NULL REFERENCES workstreams (id) ON DELETE CASCADE,
      position integer NOT NULL,
      name text NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      match text NOT NULL DEFAULT 'all' CHECK (match IN ('all', 'any')),
      conditions jsonb NOT NULL DEFAULT '[]',
      queue_id uuid REFERENCES queues (id) ON DELETE SET NULL,
      skills jsonb NOT NULL DEFAULT '[]',
      priority integer,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX routing_rules_workstream ON routing_rules (workstream_id, position);

    ALTER TABLE conversations
      ADD COLUMN workstream_id uuid REFERENCES workstreams (id) ON DELETE SET NULL,
      ADD COLUMN queue_id uuid REFERENCES queues (id) ON DELETE SET NULL,
      ADD COLUMN priority integer NOT NULL DEFAULT 0,
      ADD COLUMN required_skills jsonb NOT NULL DEFAULT '[]',
      ADD COLUMN assigned_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
      -- capacity units this conversation holds on its agent (offered or assigned)
      ADD COLUMN held_capacity integer NOT NULL DEFAULT 0,
      -- FIFO order of the waiting list: since when the customer waits for an agent
      ADD COLUMN waiting_since timestamptz,
      -- since when it sits in its current queue (overflow timers)
      ADD COLUMN queued_at timestamptz,
      ADD COLUMN classified_at timestamptz;
    CREATE INDEX conversations_waiting ON conversations (queue_id, priority DESC, waiting_since) WHERE state = 'open';
    CREATE INDEX conversations_assigned ON conversations (assigned_user_id) WHERE state <> 'closed';

    CREATE TABLE offers (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      conversation_id uuid NOT NULL REFERENCES conversations (id),
      user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      queue_id uuid REFERENCES queues (id) ON DELETE SET NULL,
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'rejected', 'expired', 'withdrawn')),
      note text,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      answered_at timestamptz
    );
    -- the last line of exactly-once: one conversation is never offered to two agents at once
    CREATE UNIQUE INDEX offers_one_pending ON offers (conversation_id) WHERE state = 'pending';
    CREATE INDEX offers_user ON offers (user_id) WHERE state = 'pending';
    CREATE INDEX offers_conversation ON offers (conversation_id, created_at);

    CREATE TABLE conversation_events (
      id bigserial PRIMARY KEY,
      conversation_id uuid NOT NULL REFERENCES conversations (id),
      at timestamptz NOT NULL DEFAULT now(),
      kind text NOT NULL,
      from_state text,
      to_state text,
      actor_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
      actor_label text NOT NULL,
      agent_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
      queue_id uuid REFERENCES queues (id) ON DELETE SET NULL,
      reason text,
      details jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX conversation_events_conversation ON conversation_events (conversation_id, id);
    CREATE INDEX conversation_events_at ON conversation_events (at);
  `.execute(db);
}
