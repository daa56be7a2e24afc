import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Actor } from '../core/audit/log.ts';
import { isRole, type Role } from '../core/users/roles.ts';
import { resolveSession, type AuthUser } from '../core/users/sessions.ts';
import { resolveToken } from '../core/users/tokens.ts';
import type { Database } from '../db/database.ts';
import { forbidden, unauthorized } from './errors.ts';
import { SESSION_COOKIE } from './session-cookie.ts';

/**
 * The one place that decides who may call what. Every route declares either `public: true` or the
 * `roles` allowed, and optionally a `scope` check (e.g. "this conversation is offered or assigned
 * to this agent"); a route that declares neither is refused when it is registered, so no route can
 * be left open by mistake. Handlers never check roles themselves.
 *
 *   app.get('/api/v1/users', { config: { roles: ['admin'] }, schema }, handler)
 *   app.get('/api/v1/conversations/:id', { config: { roles: ['admin', 'supervisor', 'agent'],
 *     scope: (request, user) => mayOpenConversation(db, user, request.params) }, schema }, handler)
 */
export type ScopeCheck = (request: FastifyRequest, user: AuthUser) => boolean | Promise<boolean>;

export type Credential = { kind: 'session'; idHash: string; csrfToken: string } | { kind: 'token'; tokenId: number };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Open to anyone: health checks, signing in, the API document, provider webhooks. */
    public?: boolean;
    /** The roles allowed to call the route. */
    roles?: readonly Role[];
    /** A finer check once the role passed; runs after validation, so `request.params` is typed. False answers 403. */
    scope?: ScopeCheck;
    /** Also open while the user must still replace a one-time password (who am I, sign out, change password). */
    allowWithOneTimePassword?: boolean;
  }
  interface FastifyRequest {
    /** Who is asking; set on every route that declares roles, null on public ones. */
    user: AuthUser | null;
    /** How they proved it. */
    credential: Credential | null;
  }
}

/** One row of the route table: what each route declares. */
export interface RouteAccess {
  method: string;
  url: string;
  public: boolean;
  roles: readonly Role[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-csrf-token';

function declaredAccess(route: RouteOptions): RouteAccess[] {
  const config = route.config ?? {};
  const where = `${String(route.method)} ${route.url}`;
  if (config.public && config.roles) throw new Error(`route ${where} is declared both public and for roles: choose one`);
  if (!config.public) {
    if (!config.roles || config.roles.length === 0) {
      throw new Error(`route ${where} declares no access: add config.roles (e.g. ['admin']) or config.public: true`);
    }
    const unknown = config.roles.find((role) => !isRole(role));
    if (unknown) throw new Error(`route ${where} names an unknown role "${String(unknown)}"`);
  }
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  return methods.map((method) => ({ method, url: route.url, public: config.public === true, roles: config.roles ?? [] }));
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The bearer token of the request, or undefined without an Authorization header. */
function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthorized('the Authorization header must be "Bearer <token>"');
  return match[1]!;
}

/**
 * Installs the access rules on the app. Call it before registering any route: routes registered
 * earlier escape the declaration check.
 */
export function registerAccess(app: FastifyInstance, deps: { database: Database; sessionIdleMinutes: number }): void {
  const table: RouteAccess[] = [];
  app.decorate('routeAccess', table);
  app.decorateRequest('user', null);
  app.decorateRequest('credential', null);

  app.addHook('onRoute', (route) => {
    table.push(...declaredAccess(route));
  });

  async function authenticate(request: FastifyRequest): Promise<void> {
    const db = deps.database.db;
    const bearer = bearerOf(request);
    if (bearer !== undefined) {
      const found = await resolveToken(db, bearer);
      if (!found) throw unauthorized('the API token is unknown, revoked, or its user is disabled');
      request.user = found.user;
      request.credential = { kind: 'token', tokenId: found.tokenId };
      return;
    }
    const cookie = request.cookies[SESSION_COOKIE];
    if (cookie) {
      const found = await resolveSession(db, cookie, deps.sessionIdleMinutes);
      if (!found) throw unauthorized('your session has ended: sign in again');
      request.user = found.user;
      request.credential = { kind: 'session', idHash: found.idHash, csrfToken: found.csrfToken };
      return;
    }
    throw unauthorized();
  }

  // Before the body is read: an unauthenticated caller learns nothing, not even which fields a body needs.
  app.addHook('onRequest', async (request: FastifyRequest, _reply: FastifyReply) => {
    if (request.is404) return;
    const config = request.routeOptions.config;
    if (config.public) return;
    await authenticate(request);
    const user = request.user!;
    const credential = request.credential!;
    // A browser sends the cookie with any request a foreign page makes; only our page knows the token.
    if (credential.kind === 'session' && !SAFE_METHODS.has(request.method)) {
      const given = request.headers[CSRF_HEADER];
      if (typeof given !== 'string' || !sameSecret(given, credential.csrfToken)) {
        throw forbidden(`missing or wrong ${CSRF_HEADER} header: send the csrfToken given at sign-in`, 'csrf_failed');
      }
    }
    if (user.mustChangePassword && !config.allowWithOneTimePassword) {
      throw forbidden('choose a new password first: POST /api/v1/auth/password', 'password_change_required');
    }
    if (!config.roles!.includes(user.role)) throw forbidden();
  });

  app.addHook('preHandler', async (request: FastifyRequest) => {
    const scope = request.is404 ? undefined : request.routeOptions.config.scope;
    if (scope && request.user && !(await scope(request, request.user))) throw forbidden('this is outside what you may see or change');
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered so far with what it declares (for tests and the API document). */
    routeAccess: RouteAccess[];
  }
}

/** The signed-in user of a route that declares roles (never null there). */
export function currentUser(request: FastifyRequest): AuthUser {
  if (!request.user) throw unauthorized();
  return request.user;
}

/** The audit log's "who, from where" for this request. */
export function actorOf(request: FastifyRequest): Actor {
  return { userId: request.user?.id ?? null, label: request.user?.email ?? 'anonymous', ip: request.ip, userAgent: request.headers['user-agent'] ?? null };
}
