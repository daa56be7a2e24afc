import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../src/config.ts';
import { insertAccount, insertChannelInstance } from '../src/core/channels/store.ts';
import { SYSTEM_ACTORS } from '../src/core/audit/log.ts';
import { createToken } from '../src/core/users/tokens.ts';
import { createUser } from '../src/core/users/users.ts';
import { startParley } from '../src/runtime.ts';
import { DEMO, seedDemo } from '../src/sandbox/demo.ts';
import { startSandbox } from '../src/sandbox/index.ts';
import { withPostgresDatabase } from './harness.ts';

/**
 * bench/outbound: agents' messages through the API to the LINE sandbox. Customers write first
 * (one conversation each); then `--messages` sends go out through POST
 * /api/v1/conversations/:id/messages with `--concurrency` requests in flight, spread over the
 * conversations. Prints messages/s received by the sandbox and the latency from the agent's
 * request to the sandbox receiving the message (p50/p99).
 *
 *   npm run bench -- outbound [--messages 3000] [--conversations 200] [--concurrency 64] [--db embedded|postgres|both]
 */
const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '3000' },
    conversations: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '64' },
    db: { type: 'string', default: 'both' },
    postgres: { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const total = Number(values.messages);
const conversationCount = Number(values.conversations);
const concurrency = Number(values.concurrency);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function measure(label: string, databaseUrl: string | undefined): Promise<void> {
  const sandbox = await startSandbox();
  // webhooks from the sandbox need Parley's address before it starts: listen first, then seed
  const config: Config = {
    ...loadConfig({}),
    port: 0,
    logLevel: 'warn',
    dataDir: mkdtempSync(join(tmpdir(), 'parley-bench-')),
    databaseUrl,
    lineApiUrl: sandbox.urls.lineApi,
    lineDataUrl: sandbox.urls.lineData,
    facebookGraphUrl: sandbox.urls.facebookGraph,
    twilioApiUrl: sandbox.urls.twilioApi,
  };
  const parley = await startParley(config);
  try {
    const { db } = parley.database;
    const account = await insertAccount(db, parley.secrets, { provider: 'line', name: 'bench', externalId: DEMO.line.channelId, secret: DEMO.line.channelSecret });
    const channel = await insertChannelInstance(db, parley.secrets, { accountId: account, provider: 'line', name: 'bench', externalId: DEMO.line.channelId, token: DEMO.line.accessToken });
    seedDemo(sandbox, { facebookCallbackUrl: `${parley.url}/none`, twilioInboundUrl: `${parley.url}/none`, twilioStatusUrl: `${parley.url}/none`, lineWebhookUrl: `${parley.url}/webhooks/line/${channel.webhookKey}` });
    const { user } = await createUser(db, { email: 'bench@example.com', role: 'admin', name: 'Bench', password: 'bench-password-1' }, SYSTEM_ACTORS.commandLine);
    const { secret } = await createToken(db, user.id, 'bench', SYSTEM_ACTORS.commandLine);

    for (let i = 0; i < conversationCount; i++) {
      await sandbox.customer.say({ channel: 'line', to: DEMO.line.channelId, from: 'U' + (i + 1).toString(16).padStart(32, 'a'), text: 'hello' });
    }
    let conversations: { id: string }[] = [];
    // a webhook the sandbox gave up on (LINE waits 2 s) opens no conversation: go on with those that opened
    for (let waited = 0; conversations.length < conversationCount && waited < 30_000; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      conversations = await db.selectFrom('conversations').select('id').execute();
    }
    if (conversations.length === 0) throw new Error('no conversation opened');

    const started = new Map<string, number>();
    let next = 0;
    let refused = 0;
    const firstStart = performance.timeOrigin + performance.now();
    const worker = async () => {
      while (next < total) {
        const n = next++;
        const text = `bench ${n}`;
        started.set(text, performance.timeOrigin + performance.now());
        const response = await fetch(`${parley.url}/api/v1/conversations/${conversations[n % conversations.length]!.id}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ text }),
        });
        await response.arrayBuffer();
        if (response.status !== 202) refused += 1;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const acceptedIn = performance.timeOrigin + performance.now() - firstStart;
    for (let waited = 0; sandbox.line.messages.all().length < total - refused; waited += 50) {
      if (waited > 300_000) throw new Error(`only ${sandbox.line.messages.all().length} of ${total} delivered`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const received = sandbox.line.messages.all();
    const latencies = received
      .map((m) => m.at - (started.get((m.messages[0] as { text: string }).text) ?? m.at))
      .sort((a, b) => a - b);
    const lastAt = Math.max(...received.map((m) => m.at));
    const seconds = (lastAt - firstStart) / 1000;
    console.log(
      `${label.padEnd(30)} ${conversations.length} conversations, ${received.length} delivered in ${seconds.toFixed(1)} s = ${Math.round(received.length / seconds)} msg/s` +
        ` (API accepted all in ${(acceptedIn / 1000).toFixed(1)} s = ${Math.round(total / (acceptedIn / 1000))}/s)` +
        `   send → sandbox p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms   refused ${refused}`,
    );
  } finally {
    await parley.stop();
    await sandbox.close();
  }
}

console.log(`bench/outbound: ${total} API sends over ${conversationCount} LINE conversations, ${concurrency} in flight, node ${process.version}`);
if (values.db === 'embedded' || values.db === 'both') await measure('embedded PostgreSQL (PGlite)', undefined);
if (values.db === 'postgres' || values.db === 'both') await withPostgresDatabase(values.postgres!, (url) => measure('PostgreSQL', url));
process.exit(0);
