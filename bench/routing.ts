import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { dispatchQueue } from '../src/core/routing/dispatch.ts';
import { routeConversation } from '../src/core/routing/route.ts';
import { openDatabase, type Database } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { withPostgresDatabase } from './harness.ts';
import { seedRouting } from './routing-seed.ts';

/**
 * bench/routing: assignment decisions per second when 10,000 conversations wait for 1,000
 * available agents (one cycle serving the whole waiting list, each decision a claiming
 * transaction), then offer latency: a new conversation classified, queued and offered while
 * the agents are busy with those 10,000.
 *
 *   npm run bench -- routing [--agents 1000] [--waiting 10000] [--db embedded|postgres|both] [--postgres URL]
 */
const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    waiting: { type: 'string', default: '10000' },
    latency: { type: 'string', default: '300' },
    db: { type: 'string', default: 'both' },
    postgres: { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const agents = Number(values.agents);
const waiting = Number(values.waiting);
const samples = Number(values.latency);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function measure(label: string, database: Database): Promise<void> {
  await migrateToLatest(database.db);
  const { db, notifier } = database;
  // room for twice the waiting list, so the latency runs still find agents
  const units = 5;
  const capacity = Math.ceil((waiting * 2 * units) / agents);
  const { queueId, channelId } = await seedRouting(db, { agents, conversations: waiting, capacity, units });

  const start = performance.now();
  const result = await dispatchQueue(db, notifier, queueId);
  const ms = performance.now() - start;
  console.log(`${label}: ${result.offers} offers to ${agents} agents from ${waiting} waiting in ${(ms / 1000).toFixed(2)} s = ${Math.round((result.offers / ms) * 1000)} assignment decisions/s`);

  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const profile = await db.insertInto('social_profiles').values({ channel_id: channelId, provider: 'facebook', provider_user_id: `late-${i}` }).returning('id').executeTakeFirstOrThrow();
    const conversation = await db.insertInto('conversations').values({ channel_id: channelId, social_profile_id: profile.id }).returning('id').executeTakeFirstOrThrow();
    const t0 = performance.now();
    await routeConversation(db, notifier, conversation.id);
    await dispatchQueue(db, notifier, queueId);
    latencies.push(performance.now() - t0);
  }
  const offered = await db.selectFrom('offers').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
  latencies.sort((a, b) => a - b);
  console.log(`${label}: offer latency over ${samples} new conversations (classify + queue + cycle + offer): p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (${offered.n} offers in all)`);
}

async function withPostgres(adminUrl: string, fn: (database: Database) => Promise<void>): Promise<void> {
  await withPostgresDatabase(adminUrl, async (url) => {
    const database = await openDatabase({ url, poolSize: 5 });
    try {
      await fn(database);
    } finally {
      await database.close();
    }
  });
}

console.log(`bench/routing: ${agents} agents, ${waiting} waiting conversations, highest-capacity, node ${process.version}`);
if (values.db === 'embedded' || values.db === 'both') {
  const database = await openDatabase({});
  try {
    await measure('embedded PostgreSQL (PGlite)', database);
  } finally {
    await database.close();
  }
}
if (values.db === 'postgres' || values.db === 'both') await withPostgres(values.postgres!, (database) => measure('PostgreSQL', database));
process.exit(0);
