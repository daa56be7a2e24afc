import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { load, row, startBenchParley, startCeilingServer, withPostgresDatabase, type BenchParley } from './harness.ts';

/**
 * bench/inbound: signed webhooks verified, stored durably and acknowledged (job workers
 * paused, so intake alone is measured), then how fast stored events are processed (social
 * profile, conversation, message, routing requested) when every message comes from a new
 * sender. Prints the machine's ceiling measured in the same run. The load generator runs in
 * its own process.
 *
 *   npm run bench -- inbound [--seconds 10] [--db embedded|postgres|both] [--postgres URL]
 */
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    db: { type: 'string', default: 'both' },
    postgres: { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    connections: { type: 'string', default: '50' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);

async function waitProcessed(parley: BenchParley['parley']): Promise<number> {
  const start = Date.now();
  for (;;) {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM inbox_events WHERE processed_at IS NULL`.execute(parley.database.db);
    if (rows[0]!.n === 0) return Date.now() - start;
    if (Date.now() - start > 600_000) throw new Error(`${rows[0]!.n} events still unprocessed after 10 minutes`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function measure(label: string, databaseUrl: string | undefined): Promise<void> {
  const bench = await startBenchParley(databaseUrl);
  try {
    await bench.parley.runner.stop();
    await load(bench.webhookUrl, { connections, seconds: 2 }); // warm-up
    console.log(row(`${label}: stored + acknowledged, ${connections} connections`, await load(bench.webhookUrl, { connections, seconds })));
    console.log(row(`${label}: stored + acknowledged at 1,000/s`, await load(bench.webhookUrl, { connections, seconds, rate: 1000 })));
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM inbox_events`.execute(bench.parley.database.db);
    console.log(`${label}: inbox holds ${rows[0]!.n} events, each with its processing job`);

    // processing alone, every message from a new sender: set the intake runs' backlog aside
    await sql`UPDATE inbox_events SET processed_at = now() WHERE processed_at IS NULL`.execute(bench.parley.database.db);
    await sql`DELETE FROM jobs`.execute(bench.parley.database.db);
    const fresh = await load(bench.webhookUrl, { connections, seconds: 3, newSenders: true });
    await bench.parley.runner.start();
    const ms = await waitProcessed(bench.parley);
    console.log(`${label}: processed ${fresh.requests} events from new senders (social profile, conversation, message, routing requested) in ${(ms / 1000).toFixed(1)} s = ${Math.round((fresh.requests / ms) * 1000)}/s`);
  } finally {
    await bench.parley.stop();
  }
}

console.log(`bench/inbound: ${seconds} s per run, 1 KB signed LINE webhooks, node ${process.version}`);
const ceiling = await startCeilingServer();
console.log(row('ceiling: signature verified + acknowledged, no storage', await load(ceiling.url, { connections, seconds })));
await ceiling.close();
if (values.db === 'embedded' || values.db === 'both') await measure('embedded PostgreSQL (PGlite)', undefined);
if (values.db === 'postgres' || values.db === 'both') await withPostgresDatabase(values.postgres!, (url) => measure('PostgreSQL', url));
process.exit(0);
