import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { CSRF_HEADER } from './access.ts';
import { SESSION_COOKIE } from './session-cookie.ts';

/**
 * The OpenAPI document of the REST API, generated from the route schemas (there is no second
 * description) and served at GET /api/openapi.json. Each operation lists the ways to call it and
 * the roles it declares; health, metrics and provider webhooks are not part of it.
 */
export const OPENAPI_PATH = '/api/openapi.json';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export async function registerOpenApi(app: FastifyInstance, info: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley REST API',
        version: info.version,
        description: `Sign in with POST /api/v1/auth/session (the browser keeps the ${SESSION_COOKIE} cookie; send the csrfToken it returns as the ${CSRF_HEADER} header with every state-changing request), or send a personal API token as \`Authorization: Bearer <token>\`. Errors answer as {"error": {"code", "message"}}.`,
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'the browser session, set by POST /api/v1/auth/session' },
          csrf: { type: 'apiKey', in: 'header', name: CSRF_HEADER, description: 'with the session cookie on POST, PATCH, PUT and DELETE: the csrfToken returned at sign-in and by GET /api/v1/auth/me' },
          bearer: { type: 'http', scheme: 'bearer', description: 'a personal API token (parley_...), created with POST /api/v1/auth/tokens' },
        },
      },
    },
    // shared schemas keep their $id as their name in components.schemas (e.g. Error)
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform({ schema, url, route }) {
      const base = (schema ?? {}) as FastifySchema & Record<string, unknown>;
      if (!url.startsWith('/api/v1/')) return { schema: { ...base, hide: true }, url };
      const config = route.config ?? {};
      if (config.public) return { schema: { ...base, security: [] }, url };
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const session: Record<string, string[]> = methods.every((m) => SAFE_METHODS.has(m)) ? { session: [] } : { session: [], csrf: [] };
      const roles = `Roles: ${(config.roles ?? []).join(', ')}.`;
      return {
        schema: { ...base, security: [session, { bearer: [] }], description: base.description ? `${String(base.description)}\n\n${roles}` : roles },
        url,
      };
    },
  });
  app.get(OPENAPI_PATH, { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
