import { spawn } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pg from 'pg';
import { loadConfig, type Config } from '../src/config.ts';
import { insertAccount, insertChannelInstance } from '../src/core/channels/store.ts';
import { startParley, type Parley } from '../src/runtime.ts';

/**
 * Reusable pieces for benchmarks: a Parley on either database with one LINE channel, signed
 * webhook bodies (each event unique), a load generator run, and the machine's ceiling measured
 * in the same run (an HTTP server that only verifies signatures).
 */
export const CHANNEL_SECRET = 'bench-line-channel-secret';
const BOT = 'U' + 'b'.repeat(32);

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export function lineWebhook(userId: string, text: string): { body: string; signature: string } {
  const body = JSON.stringify({
    destination: BOT,
    events: [{
      type: 'message', mode: 'active', timestamp: Date.now(), webhookEventId: randomUUID().replace(/-/g, '').slice(0, 26).toUpperCase(),
      deliveryContext: { isRedelivery: false }, replyToken: randomUUID().replace(/-/g, ''),
      source: { type: 'user', userId }, message: { type: 'text', id: String(Math.floor(Math.random() * 1e17)), quoteToken: 'q', text: text.padEnd(700, '.') },
    }],
  });
  return { body, signature: createHmac('sha256', CHANNEL_SECRET).update(body).digest('base64') };
}

/**
 * Drives signed webhooks at `url` from a separate process (so the load generator does not
 * share the measured server's event loop): as fast as `connections` allow, or at a fixed `rate`.
 */
export async function load(url: string, options: LoadOptions): Promise<LoadResult> {
  const child = spawn(process.execPath, [new URL('./load-process.ts', import.meta.url).pathname, JSON.stringify({ url, ...options })], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  return JSON.parse(out) as LoadResult;
}

export interface LoadOptions {
  connections: number;
  seconds: number;
  rate?: number;
  newSenders?: boolean;
}

/** Runs in the load process: autocannon with a freshly signed, unique event per request. */
export async function generateLoad(url: string, options: LoadOptions): Promise<LoadResult> {
  let n = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections: options.connections,
    duration: options.seconds,
    ...(options.rate ? { overallRate: options.rate } : {}),
    requests: [{
      setupRequest(request) {
        n += 1;
        const user = options.newSenders ? 'U' + n.toString(16).padStart(32, '0') : 'U' + ((n % 200) + 1).toString(16).padStart(32, '0');
        const { body, signature } = lineWebhook(user, `message ${n}`);
        return { ...request, body, headers: { 'content-type': 'application/json', 'x-line-signature': signature } };
      },
    }],
  });
  return {
    requests: result.requests.total,
    perSecond: Math.round(result.requests.total / options.seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** The ceiling: verify the signature on the raw body and answer, nothing else. */
export async function startCeilingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, body, done) => done(null, body));
  app.post('/hook', async (request, reply) => {
    const expected = createHmac('sha256', CHANNEL_SECRET).update(request.body as Buffer).digest('base64');
    if (expected !== request.headers['x-line-signature']) return reply.status(403).send();
    return reply.send({});
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `${url}/hook`, close: () => app.close() };
}

export interface BenchParley {
  parley: Parley;
  webhookUrl: string;
  channelId: string;
}

/** Parley with one LINE channel, on PostgreSQL when `databaseUrl` is given, else embedded. */
export async function startBenchParley(databaseUrl?: string, overrides: Partial<Config> = {}): Promise<BenchParley> {
  const config: Config = {
    ...loadConfig({}),
    port: 0,
    logLevel: 'silent',
    dataDir: mkdtempSync(join(tmpdir(), 'parley-bench-')),
    databaseUrl,
    lineApiUrl: 'http://127.0.0.1:9', // profile look-ups fail fast: intake is what is measured
    ...overrides,
  };
  const parley = await startParley(config);
  const account = await insertAccount(parley.database.db, parley.secrets, { provider: 'line', name: 'bench', externalId: '1', secret: CHANNEL_SECRET });
  const channel = await insertChannelInstance(parley.database.db, parley.secrets, { accountId: account, provider: 'line', name: 'bench', externalId: '1', token: 'token' });
  return { parley, webhookUrl: `${parley.url}/webhooks/line/${channel.webhookKey}`, channelId: channel.id };
}

export function row(label: string, r: LoadResult): string {
  return `${label.padEnd(58)} ${String(r.perSecond).padStart(7)}/s   p50 ${String(r.p50).padStart(4)} ms   p99 ${String(r.p99).padStart(4)} ms   non-2xx ${r.non2xx}, errors ${r.errors}`;
}

/** Runs `fn` on a new PostgreSQL database created under `adminUrl`, dropped afterwards. */
export async function withPostgresDatabase(adminUrl: string, fn: (url: string) => Promise<void>): Promise<void> {
  const name = `parley_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
