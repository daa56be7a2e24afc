import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { Config } from '../../config.ts';
import { ROLES } from '../../core/users/roles.ts';
import { endSession } from '../../core/users/sessions.ts';
import { signIn } from '../../core/users/sign-in.ts';
import { createToken, listTokens, MAX_TOKEN_NAME_LENGTH, revokeToken } from '../../core/users/tokens.ts';
import { changeOwnPassword, getUser, MAX_NAME_LENGTH, updateUser } from '../../core/users/users.ts';
import { audit } from '../../core/audit/log.ts';
import type { Database } from '../../db/database.ts';
import { actorOf, currentUser } from '../access.ts';
import { clearSessionCookie, setSessionCookie } from '../session-cookie.ts';
import { ApiTokenSchema, errors, IdParams, Password, tokenView, UserSchema, userView } from './schemas.ts';

/** Signing in and out, who am I, my password, my API tokens: open to every role. */
export async function authRoutes(app: FastifyInstance, deps: { database: Database; config: Config }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = deps.database.db;
  const everyone = ROLES;
  const tags = ['Sign-in and tokens'];

  const Session = Type.Object({
    user: UserSchema,
    csrfToken: Type.Union([Type.String(), Type.Null()], { description: 'send it as the x-csrf-token header with every POST, PATCH, PUT and DELETE made with the session cookie; null when signed in with an API token' }),
  });

  r.post('/api/v1/auth/session', {
    config: { public: true },
    schema: {
      tags,
      summary: 'Sign in with email and password',
      description: 'Sets the HttpOnly session cookie. Failed attempts are slowed down per account and per address (429 with Retry-After). A one-time password signs in, but every other route answers 403 password_change_required until a new password is chosen.',
      body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 320 }), password: Password }),
      response: { 200: Session, ...errors(401, 422, 429) },
    },
  }, async (request, reply) => {
    const { user, session } = await signIn(db, request.body, { ip: request.ip, userAgent: request.headers['user-agent'] }, deps.config.sessionIdleMinutes);
    setSessionCookie(request, reply, session.secret, deps.config.publicUrl);
    return { user: userView(user), csrfToken: session.csrfToken };
  });

  r.delete('/api/v1/auth/session', {
    config: { roles: everyone, allowWithOneTimePassword: true },
    schema: { tags, summary: 'Sign out (ends this session)', response: { 204: Type.Null(), ...errors(401, 403) } },
  }, async (request, reply) => {
    const credential = request.credential!;
    if (credential.kind === 'session') {
      await endSession(db, credential.idHash);
      await audit(db, { actor: actorOf(request), action: 'auth.sign_out', target: { type: 'user', id: currentUser(request).id } });
    }
    clearSessionCookie(request, reply, deps.config.publicUrl);
    return reply.status(204).send(null);
  });

  r.get('/api/v1/auth/me', {
    config: { roles: everyone, allowWithOneTimePassword: true },
    schema: { tags, summary: 'Who is signed in', response: { 200: Session, ...errors(401) } },
  }, async (request) => {
    const credential = request.credential!;
    return { user: userView(await getUser(db, currentUser(request).id)), csrfToken: credential.kind === 'session' ? credential.csrfToken : null };
  });

  r.patch('/api/v1/auth/me', {
    config: { roles: everyone },
    schema: {
      tags,
      summary: 'Change my own profile',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH }) }),
      response: { 200: UserSchema, ...errors(401, 403, 422) },
    },
  }, async (request) => userView(await updateUser(db, currentUser(request).id, { name: request.body.name }, actorOf(request))));

  r.post('/api/v1/auth/password', {
    config: { roles: everyone, allowWithOneTimePassword: true },
    schema: {
      tags,
      summary: 'Change my password',
      description: 'Needs the current password. Ends every other session of the user; the one in use stays.',
      body: Type.Object({ currentPassword: Password, newPassword: Password }),
      response: { 200: UserSchema, ...errors(401, 403, 422) },
    },
  }, async (request) => {
    const credential = request.credential!;
    const user = await changeOwnPassword(
      db,
      currentUser(request).id,
      { current: request.body.currentPassword, next: request.body.newPassword },
      actorOf(request),
      credential.kind === 'session' ? credential.idHash : undefined,
    );
    return userView(user);
  });

  r.get('/api/v1/auth/tokens', {
    config: { roles: everyone },
    schema: { tags, summary: 'My API tokens (never the tokens themselves)', response: { 200: Type.Object({ tokens: Type.Array(ApiTokenSchema) }), ...errors(401, 403) } },
  }, async (request) => ({ tokens: (await listTokens(db, currentUser(request).id)).map(tokenView) }));

  r.post('/api/v1/auth/tokens', {
    config: { roles: everyone },
    schema: {
      tags,
      summary: 'Create a personal API token',
      description: 'The token is in this answer only: store it now. Send it as `Authorization: Bearer <token>`; it acts with your role until revoked or until you are disabled.',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: MAX_TOKEN_NAME_LENGTH, description: 'what it is for, e.g. "CRM sync"' }) }),
      response: { 201: Type.Object({ token: ApiTokenSchema, secret: Type.String({ description: 'the token, shown once' }) }), ...errors(401, 403, 422) },
    },
  }, async (request, reply) => {
    const { token, secret } = await createToken(db, currentUser(request).id, request.body.name, actorOf(request));
    return reply.status(201).send({ token: tokenView(token), secret });
  });

  r.delete('/api/v1/auth/tokens/:id', {
    config: { roles: everyone },
    schema: { tags, summary: 'Revoke one of my API tokens', params: IdParams, response: { 204: Type.Null(), ...errors(401, 403, 404) } },
  }, async (request, reply) => {
    await revokeToken(db, currentUser(request).id, request.params.id, actorOf(request));
    return reply.status(204).send(null);
  });
}
