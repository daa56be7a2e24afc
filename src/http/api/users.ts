import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { MAX_NAME_LENGTH, createUser, getUser, listUsers, resetPassword, setUserDisabled, updateUser } from '../../core/users/users.ts';
import type { Database } from '../../db/database.ts';
import { actorOf } from '../access.ts';
import { errors, IdParams, Password, RoleSchema, UserSchema, userView } from './schemas.ts';

/** Managing users: admins only. */
export async function userRoutes(app: FastifyInstance, deps: { database: Database }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = deps.database.db;
  const config = { roles: ['admin'] as const };
  const tags = ['Users'];
  const WithOneTimePassword = Type.Object({
    user: UserSchema,
    oneTimePassword: Type.Optional(Type.String({ description: 'shown once: hand it to the user, who must replace it at first sign-in' })),
  });

  r.get('/api/v1/users', {
    config,
    schema: {
      tags,
      summary: 'List users',
      querystring: Type.Object({
        role: Type.Optional(RoleSchema),
        status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
        limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
        offset: Type.Integer({ minimum: 0, default: 0 }),
      }),
      response: { 200: Type.Object({ users: Type.Array(UserSchema), total: Type.Integer() }), ...errors(400, 401, 403) },
    },
  }, async (request) => {
    const { users, total } = await listUsers(db, request.query);
    return { users: users.map(userView), total };
  });

  r.post('/api/v1/users', {
    config,
    schema: {
      tags,
      summary: 'Create a user',
      description: 'Without a password, a one-time password is generated and returned once. Either way the user chooses their own password at first sign-in.',
      body: Type.Object({
        email: Type.String({ minLength: 1, maxLength: 320 }),
        role: RoleSchema,
        name: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH })),
        password: Type.Optional(Password),
      }),
      response: { 201: WithOneTimePassword, ...errors(401, 403, 409, 422) },
    },
  }, async (request, reply) => {
    const { user, oneTimePassword } = await createUser(db, { ...request.body, mustChangePassword: true }, actorOf(request));
    return reply.status(201).send({ user: userView(user), oneTimePassword });
  });

  r.get('/api/v1/users/:id', {
    config,
    schema: { tags, summary: 'One user', params: IdParams, response: { 200: UserSchema, ...errors(401, 403, 404) } },
  }, async (request) => userView(await getUser(db, request.params.id)));

  r.patch('/api/v1/users/:id', {
    config,
    schema: {
      tags,
      summary: "Change a user's name or role",
      description: 'The last active administrator keeps the admin role (409).',
      params: IdParams,
      body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH })), role: Type.Optional(RoleSchema) }),
      response: { 200: UserSchema, ...errors(401, 403, 404, 409, 422) },
    },
  }, async (request) => userView(await updateUser(db, request.params.id, request.body, actorOf(request))));

  r.post('/api/v1/users/:id/disable', {
    config,
    schema: {
      tags,
      summary: 'Disable a user',
      description: 'Their sessions end and their API tokens are revoked at once. Nobody can disable themselves or the last active administrator (409).',
      params: IdParams,
      response: { 200: UserSchema, ...errors(401, 403, 404, 409) },
    },
  }, async (request) => userView(await setUserDisabled(db, request.params.id, true, actorOf(request))));

  r.post('/api/v1/users/:id/enable', {
    config,
    schema: { tags, summary: 'Enable a disabled user again', params: IdParams, response: { 200: UserSchema, ...errors(401, 403, 404) } },
  }, async (request) => userView(await setUserDisabled(db, request.params.id, false, actorOf(request))));

  r.post('/api/v1/users/:id/password-reset', {
    config,
    schema: {
      tags,
      summary: 'Give a user a new one-time password',
      description: 'Their sessions end; they must choose a new password at their next sign-in.',
      params: IdParams,
      response: { 200: Type.Object({ user: UserSchema, oneTimePassword: Type.String() }), ...errors(401, 403, 404) },
    },
  }, async (request) => {
    const { user, oneTimePassword } = await resetPassword(db, request.params.id, actorOf(request));
    return { user: userView(user), oneTimePassword };
  });
}
