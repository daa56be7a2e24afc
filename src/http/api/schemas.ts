import Type from 'typebox';
import type { AuditRecord } from '../../core/audit/log.ts';
import { MAX_PASSWORD_LENGTH } from '../../core/users/passwords.ts';
import { ROLES } from '../../core/users/roles.ts';
import type { ApiToken } from '../../core/users/tokens.ts';
import type { User } from '../../core/users/users.ts';

/** The shapes the REST API speaks, shared by its route groups and turned into the OpenAPI document. */

export const RoleSchema = Type.Enum(['admin', 'supervisor', 'agent'] satisfies typeof ROLES[number][]);
const DateTime = Type.String({ format: 'date-time' });
export const Id = Type.Integer({ minimum: 1 });
export const IdParams = Type.Object({ id: Id });
export const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable, for programs: unauthorized, forbidden, csrf_failed, validation_failed, not_found, conflict, rate_limited, ...' }),
      message: Type.String({ description: 'for people' }),
      field: Type.Optional(Type.String({ description: 'the input that was wrong' })),
      holder: Type.Optional(
        Type.Object(
          { id: Type.String(), name: Type.String(), accountId: Type.String(), accountName: Type.String() },
          { description: 'conflict: the channel instance (or messaging account) that already holds this page, number or LINE channel' },
        ),
      ),
      requestId: Type.Optional(Type.String()),
    }),
  },
  { $id: 'Error' },
);

const ERROR_MEANINGS: Record<number, string> = {
  400: 'malformed request',
  401: 'not signed in, or the session or token ended',
  403: 'the role does not allow this, or the CSRF header is missing',
  404: 'not found',
  409: 'conflicts with the current state',
  422: 'a field is invalid (named in the answer)',
  429: 'too many attempts; see Retry-After',
};

/** The error answers a route can give, for its response schema. */
export function errors(...statuses: number[]): Record<number, unknown> {
  return Object.fromEntries(statuses.map((status) => [status, Type.Ref('Error', { description: ERROR_MEANINGS[status] })]));
}

export const UserSchema = Type.Object(
  {
    id: Id,
    email: Type.String(),
    name: Type.String(),
    role: RoleSchema,
    mustChangePassword: Type.Boolean({ description: 'signed in with a one-time password that must be replaced first' }),
    disabled: Type.Boolean(),
    disabledAt: Type.Union([DateTime, Type.Null()]),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
);

export function userView(user: User) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    mustChangePassword: user.mustChangePassword,
    disabled: user.disabledAt !== null,
    disabledAt: user.disabledAt?.toISOString() ?? null,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

export const ApiTokenSchema = Type.Object(
  {
    id: Id,
    name: Type.String(),
    prefix: Type.String({ description: 'the first characters of the token, to recognise it' }),
    createdAt: DateTime,
    lastUsedAt: Type.Union([DateTime, Type.Null()]),
    revokedAt: Type.Union([DateTime, Type.Null()]),
  },
);

export function tokenView(token: ApiToken) {
  return {
    id: token.id,
    name: token.name,
    prefix: token.prefix,
    createdAt: token.createdAt.toISOString(),
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
    revokedAt: token.revokedAt?.toISOString() ?? null,
  };
}

export const AuditEntrySchema = Type.Object(
  {
    id: Id,
    at: DateTime,
    actor: Type.Object({ userId: Type.Union([Id, Type.Null()]), label: Type.String({ description: "the user's email, or e.g. \"command line\"" }) }),
    action: Type.String({ description: 'e.g. auth.sign_in, auth.sign_in_failed, user.created, user.role_changed, token.revoked' }),
    target: Type.Union([Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]),
    details: Type.Record(Type.String(), Type.Unknown()),
    ip: Type.Union([Type.String(), Type.Null()]),
    userAgent: Type.Union([Type.String(), Type.Null()]),
  },
);

export function auditView(entry: AuditRecord) {
  return { ...entry, at: entry.at.toISOString() };
}

/** Shared schemas, added to the app once so routes can refer to them by `$id`. */
export const SHARED_SCHEMAS = [ErrorBody];
