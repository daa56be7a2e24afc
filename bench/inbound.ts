import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { load, row, startBenchParley, startCeilingServer, withPostgresDatabase, type BenchParley } from './harness.ts';

/**
 * bench/inbound: signed webhooks verified, stored durably and acknowledged (job workers
 * paused, so intake alone is measured), then how fast the stored events are fully processed
 * (profile, conversation, message) when every message comes from a new sender. Prints the
 * machine's ceiling measured in the same run.
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

async function waitProcessed(parley: BenchParley['parley'], total: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM inbox_events WHERE processed_at IS NOT NULL`.execute(parley.database.db);
    if (rows[0]!.n >= total) return Date.now() - start;
    if (Date.now() - start > 600_000) throw new Error(`only ${rows[0]!.n} of ${total} processed`);
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
    console.log(`${label}: inbox holds ${rows[0]!.n} events, ${rows[0]!.n} processing jobs queued`);

    const fresh = await load(bench.webhookUrl, { connections, seconds: Math.max(3, Math.round(seconds / 2)), newSenders: true });
    const { rows: all } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM inbox_events`.execute(bench.parley.database.db);
    await bench.parley.runner.start();
    const ms = await waitProcessed(bench.parley, all[0]!.n);
    console.log(`${label}: fully processed ${all[0]!.n} events (${fresh.requests} from new senders) in ${(ms / 1000).toFixed(1)} s = ${Math.round((all[0]!.n / ms) * 1000)}/s`);
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
