import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import cookie from '@fastify/cookie';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import { registerAccess } from './http/access.ts';
import { auditRoutes } from './http/api/audit.ts';
import { conversationRoutes } from './http/api/conversations.ts';
import { deadLetterRoutes } from './http/api/dead-letters.ts';
import { authRoutes } from './http/api/auth.ts';
import { SHARED_SCHEMAS } from './http/api/schemas.ts';
import { messagingAccountRoutes } from './http/api/messaging-accounts.ts';
import { outboundRoutes } from './http/api/outbound.ts';
import { userRoutes } from './http/api/users.ts';
import { routingRoutes } from './http/api/routing.ts';
import { workRoutes } from './http/api/work.ts';
import { registerErrorHandling } from './http/errors.ts';
import { registerHealth } from './http/health.ts';
import { registerOpenApi } from './http/openapi.ts';
import { instrumentHttp, type Metrics } from './http/metrics.ts';
import { registerWebhooks, type WebhookDeps } from './http/webhooks.ts';
import type { JobRunner } from './jobs/runner.ts';
import type { FastifyBaseLogger } from 'fastify';
import type { SecretBox } from './secrets.ts';
import type { MediaStore } from './storage/media-store.ts';
import type { MessagingAccounts } from './core/channels/messaging-accounts.ts';
import type { MediaLinks } from './core/conversations/media-links.ts';
import type { Replies } from './core/conversations/reply.ts';

/** What the HTTP routes share: decorated on the app so every route plugin can reach it. */
export interface ServerDeps {
  config: Config;
  database: Database;
  runner: JobRunner;
  metrics: Metrics;
  secrets: SecretBox;
  logger: FastifyBaseLogger;
  webhooks: WebhookDeps;
  media: MediaStore;
  channels: MessagingAccounts;
  replies: Replies;
  /** Signed media links for providers; null without PUBLIC_URL. */
  links: MediaLinks | null;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** Assembles the Fastify app from the route groups. */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    trustProxy: deps.config.trustProxy,
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // one line per request, written when it completes (two lines per webhook would halve intake)
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const level = reply.statusCode >= 500 ? 'error' : reply.statusCode >= 400 ? 'info' : 'debug';
    request.log[level]({ req: request, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed');
  });
  registerErrorHandling(app);
  instrumentHttp(app, deps.metrics.registry);
  await app.register(cookie);
  // before any route: from here on, a route that declares no access fails to register
  registerAccess(app, { database: deps.database, sessionIdleMinutes: deps.config.sessionIdleMinutes });
  await registerOpenApi(app, { version });
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  registerHealth(app, { database: deps.database, runner: deps.runner, registry: deps.metrics.registry });
  registerWebhooks(app, deps.webhooks);
  await app.register(authRoutes, deps);
  await app.register(userRoutes, deps);
  await app.register(auditRoutes, deps);
  await app.register(conversationRoutes, { database: deps.database, media: deps.media });
  await app.register(outboundRoutes, { database: deps.database, media: deps.media, replies: deps.replies, links: deps.links, maxUploadBytes: deps.config.mediaMaxBytes });
  await app.register(deadLetterRoutes, deps);
  await app.register(messagingAccountRoutes, { channels: deps.channels, publicUrl: deps.config.publicUrl });
  await app.register(routingRoutes, deps);
  await app.register(workRoutes, deps);
  return app;
}
