import { sql, type Kysely } from 'kysely';
import type { DB } from '../src/db/schema.ts';

/**
 * A routing workload straight in the database: one workstream and queue, `agents` available
 * members, `conversations` waiting in the queue (each with its own customer profile).
 */
export async function seedRouting(db: Kysely<DB>, options: { agents: number; conversations: number; capacity: number; units: number; method?: 'highest-capacity' | 'round-robin' | 'least-active' }) {
  const tag = Math.random().toString(36).slice(2, 8);
  const account = await db.insertInto('messaging_accounts').values({ provider: 'facebook', name: 'bench', external_id: `app-${tag}`, secret_sealed: 'x', secret_hint: 'x' }).returning('id').executeTakeFirstOrThrow();
  const queue = await db.insertInto('queues').values({ name: `bench ${tag}`, assignment_method: options.method ?? 'highest-capacity' }).returning('id').executeTakeFirstOrThrow();
  const workstream = await db.insertInto('workstreams').values({ name: `bench ${tag}`, capacity_per_conversation: options.units, default_queue_id: queue.id, prefer_previous_agent: false }).returning('id').executeTakeFirstOrThrow();
  const channel = await db.insertInto('channel_instances').values({ account_id: account.id, provider: 'facebook', name: 'bench', external_id: `page-${tag}`, webhook_key: `key-${tag}`, manual_steps: '[]', workstream_id: workstream.id }).returning('id').executeTakeFirstOrThrow();
  await sql`
    WITH u AS (
      INSERT INTO users (email, name, role, password_hash)
      SELECT 'agent' || g || '-' || ${tag} || '@bench.test', 'Agent ' || g, 'agent', 'x' FROM generate_series(1, ${options.agents}) g
      RETURNING id
    ), a AS (
      INSERT INTO agents (user_id, presence, capacity) SELECT id, 'available', ${options.capacity} FROM u RETURNING user_id
    )
    INSERT INTO queue_members (queue_id, user_id, position) SELECT ${queue.id}::uuid, user_id, row_number() OVER (ORDER BY user_id) FROM a`.execute(db);
  await sql`
    WITH p AS (
      INSERT INTO social_profiles (channel_id, provider, provider_user_id)
      SELECT ${channel.id}::uuid, 'facebook', 'psid-' || g FROM generate_series(1, ${options.conversations}) g
      RETURNING id
    )
    INSERT INTO conversations (channel_id, social_profile_id, workstream_id, queue_id, state, waiting_since, queued_at, classified_at)
    SELECT ${channel.id}::uuid, id, ${workstream.id}::uuid, ${queue.id}::uuid, 'open', now() - make_interval(secs => random() * 600), now(), now() FROM p`.execute(db);
  return { queueId: queue.id, workstreamId: workstream.id, channelId: channel.id };
}
