import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { databaseLabel, mediaHosts, providerEndpoints, type Config } from './config.ts';
import { CHANNEL_RECHECK_QUEUE, recheckJob } from './core/channels/checks.ts';
import { createChannelDirectory } from './core/channels/directory.ts';
import { createMessagingAccounts, type MessagingAccounts } from './core/channels/messaging-accounts.ts';
import { createWebhookStats } from './core/channels/webhook-stats.ts';
import { createProfileFetcher } from './core/contacts/profiles.ts';
import { createInbox, INBOUND_QUEUE } from './core/conversations/inbox.ts';
import { channelAttachmentPolicy, createIngest, INGEST_BATCH, MEDIA_QUEUE, PROFILE_QUEUE } from './core/conversations/ingest.ts';
import { registerRouting, routingHooks } from './core/routing/index.ts';
import { createMediaFetcher, DEFAULT_MEDIA_TYPES } from './core/conversations/media.ts';
import { createDelivery } from './core/conversations/delivery.ts';
import { createMediaLinks } from './core/conversations/media-links.ts';
import { createReplies, OUTBOUND_QUEUE } from './core/conversations/reply.ts';
import { createAdapters, type AdapterRegistry } from './providers/registry.ts';
import { localMediaStore, mediaRoot, type MediaStore } from './storage/media-store.ts';
import { openDatabase, type Database } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createMetrics } from './http/metrics.ts';
import { JobRunner } from './jobs/runner.ts';
import { createLogger } from './log.ts';
import { loadSecretBox, type SecretBox } from './secrets.ts';
import { hasActiveAdmin } from './core/users/users.ts';
import { buildServer } from './server.ts';

/** One running Parley instance: database, job workers and HTTP server, and their orderly stop. */
export interface Parley {
  app: FastifyInstance;
  database: Database;
  runner: JobRunner;
  adapters: AdapterRegistry;
  media: MediaStore;
  secrets: SecretBox;
  /** Messaging accounts and channel instances: what the admin API does, and the periodic re-check. */
  channels: MessagingAccounts;
  url: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Output for the startup banner (the CLI prints it; tests keep it quiet). */
  print?: (line: string) => void;
  /** Open this database instead of the configured one (tests). */
  database?: Database;
  /** The time messaging windows are judged by (tests move it with the provider sandbox's clock). */
  now?: () => number;
}

export async function openConfiguredDatabase(config: Config, onError?: (error: Error) => void): Promise<Database> {
  return openDatabase({ url: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir, poolSize: config.dbPoolSize, onError });
}

export async function startParley(config: Config, options: StartOptions = {}): Promise<Parley> {
  const print = options.print ?? (() => undefined);
  const logger = createLogger(config);
  const secrets = loadSecretBox(config.secretKey, config.dataDir);
  const database = options.database ?? (await openConfiguredDatabase(config, (error) => logger.error({ err: error }, 'database connection error')));
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length > 0) print(`Applied migrations: ${applied.join(', ')}`);
  } catch (error) {
    await database.close();
    throw error;
  }
  const metrics = createMetrics(database.db);
  const runner = new JobRunner(database.db, database.notifier, {
    concurrency: config.jobConcurrency,
    events: {
      onOutcome(queue, outcome, job, error) {
        metrics.jobEvents.onOutcome?.(queue, outcome, job, error);
        if (error) logger[outcome === 'dead' ? 'error' : 'warn']({ queue, job: job.id, attempt: job.attempts, outcome, err: error.message }, 'job failed');
      },
      onError(error) {
        metrics.jobEvents.onError?.(error);
        logger.error({ err: error }, 'job runner error');
      },
    },
  });
  const adapters = createAdapters(providerEndpoints(config), { maxMediaBytes: config.mediaMaxBytes });
  const directory = createChannelDirectory(database.db, database.notifier);
  const stats = createWebhookStats(database.db);
  // on PostgreSQL a few batches commit side by side; embedded PostgreSQL has one connection
  const inbox = createInbox(database.db, database.kind === 'postgres' ? Math.max(1, Math.floor(config.dbPoolSize / 3)) : 1);
  const media = localMediaStore(mediaRoot(config.dataDir));
  const { db, notifier } = database;
  runner.registerBatch(INBOUND_QUEUE, INGEST_BATCH, createIngest({ db, notifier, policy: channelAttachmentPolicy, hooks: routingHooks(notifier) }).handler);
  registerRouting(runner, { db, notifier });
  runner.register(MEDIA_QUEUE, createMediaFetcher({ db, directory, adapters, secrets, store: media, policy: { maxBytes: config.mediaMaxBytes, allowedHosts: mediaHosts(config), allowedTypes: DEFAULT_MEDIA_TYPES } }).handler);
  runner.register(PROFILE_QUEUE, createProfileFetcher({ db, directory, adapters, secrets }).handler);
  const checkDeps = { db, secrets, directory, adapters, publicUrl: config.publicUrl };
  const channels = createMessagingAccounts({ ...checkDeps, stats, onError: (error) => logger.error({ err: error }, 'channel check failed') });
  const now = () => new Date(options.now ? options.now() : Date.now());
  const links = config.publicUrl ? createMediaLinks(secrets.derive('media-links'), config.publicUrl) : null;
  const replies = createReplies({ db, notifier, capabilities: (provider) => adapters.get(provider).capabilities, now });
  runner.register(OUTBOUND_QUEUE, createDelivery({ db, notifier, directory, adapters, secrets, links, publicUrl: config.publicUrl, now }).handler);
  if (database.kind === 'embedded') {
    // embedded PostgreSQL runs no autovacuum: without this, the churn of the job queue leaves dead
    // rows that every claim has to step over
    runner.every('maintenance.vacuum', 60_000, async () => {
      await sql`VACUUM (ANALYZE) jobs`.execute(db);
    });
  }
  runner.every(CHANNEL_RECHECK_QUEUE, config.channelRecheckMinutes * 60_000, recheckJob(checkDeps));
  await directory.start();
  stats.start((error) => logger.error({ err: error }, 'webhook statistics not saved'));

  const app = await buildServer({ config, database, runner, metrics, secrets, logger, webhooks: { directory, adapters, secrets, inbox, stats, publicUrl: config.publicUrl }, media, channels, replies, links });
  await runner.start();
  let address: string;
  try {
    address = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await runner.stop(0);
    await stats.stop();
    await directory.stop();
    await database.close();
    throw error;
  }

  const firstAdmin = 'npx parley user add --email you@example.com --role admin';
  const noAdmin = !(await hasActiveAdmin(database.db));
  print(
    [
      `Parley is listening on ${address}`,
      `Database: ${databaseLabel(config)}`,
      ...(database.kind === 'embedded'
        ? ['Embedded PostgreSQL survives a crash of this process but not a power loss (no fsync): use DATABASE_URL with PostgreSQL in production.']
        : []),
      config.publicUrl
        ? `Public URL for provider webhooks: ${config.publicUrl}`
        : 'PUBLIC_URL is not set: providers need an https URL that reaches this server to deliver webhooks.',
      ...(noAdmin
        ? [database.kind === 'embedded'
          ? `No administrator yet. Create the first administrator: stop Parley (the embedded database is in use), run \`${firstAdmin}\`, then start again.`
          : `No administrator yet. Create the first administrator: ${firstAdmin}`]
        : []),
    ].join('\n'),
  );

  let stopping: Promise<void> | undefined;
  return {
    app,
    database,
    runner,
    adapters,
    media,
    secrets,
    channels,
    url: address,
    stop() {
      stopping ??= (async () => {
        // stop accepting, let in-flight requests finish, then jobs, then the database
        await app.close();
        await runner.stop(config.shutdownTimeoutMs);
        await stats.stop();
        await directory.stop();
        await database.close();
      })();
      return stopping;
    },
  };
}
