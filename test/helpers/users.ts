import { randomBytes } from 'node:crypto';
import { SYSTEM_ACTORS } from '../../src/core/audit/log.ts';
import type { Role } from '../../src/core/users/roles.ts';
import { createUser, type User } from '../../src/core/users/users.ts';
import type { TestParley } from './parley.ts';

/**
 * Users and API clients for HTTP tests: a client signed in through the API (session cookie and
 * CSRF token, as the browser app) or holding an API token (as a script).
 */
export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiClient {
  user: User;
  password: string;
  /** The session cookie (`parley_session=...`), when signed in with one. */
  cookie?: string;
  csrfToken?: string;
  token?: string;
  call<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
}

let counter = 0;

/** A user with a known password, created straight in the database (no one-time password to change). */
export async function addUser(parley: TestParley, role: Role, options: { email?: string; name?: string; password?: string } = {}): Promise<{ user: User; password: string }> {
  const password = options.password ?? `pw-${randomBytes(9).toString('base64url')}`;
  const email = options.email ?? `${role}${++counter}-${randomBytes(3).toString('hex')}@example.com`;
  const { user } = await createUser(parley.database.db, { email, role, name: options.name, password }, SYSTEM_ACTORS.commandLine);
  return { user, password };
}

/** One request to the API, JSON in and out. */
export async function call<T = any>(
  parley: TestParley,
  method: string,
  path: string,
  options: { body?: unknown; cookie?: string; csrfToken?: string; token?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.cookie) headers.cookie = options.cookie;
  if (options.csrfToken) headers['x-csrf-token'] = options.csrfToken;
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await parley.request(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

/** The `name=value` of the session cookie a response set. */
export function sessionCookieOf(headers: Headers): string | undefined {
  const set = headers.getSetCookie().find((c) => c.startsWith('parley_session='));
  return set?.split(';')[0];
}

/** Signs in through the API and returns a client that sends the cookie and the CSRF token. */
export async function signIn(parley: TestParley, email: string, password: string, user?: User): Promise<ApiClient> {
  const response = await call(parley, 'POST', '/api/v1/auth/session', { body: { email, password } });
  if (response.status !== 200) throw new Error(`sign-in of ${email} failed: ${response.status} ${JSON.stringify(response.body)}`);
  const cookie = sessionCookieOf(response.headers)!;
  const csrfToken = response.body.csrfToken as string;
  return {
    user: user ?? response.body.user,
    password,
    cookie,
    csrfToken,
    call: (method, path, body, headers) => call(parley, method, path, { body, cookie, csrfToken, headers }),
  };
}

/** A new user of this role, signed in with a session. */
export async function signedInClient(parley: TestParley, role: Role, options: { email?: string; name?: string } = {}): Promise<ApiClient> {
  const { user, password } = await addUser(parley, role, options);
  return signIn(parley, user.email, password, user);
}

/** A new user of this role holding a personal API token (created through the API). */
export async function tokenClient(parley: TestParley, role: Role): Promise<ApiClient> {
  const session = await signedInClient(parley, role);
  const created = await session.call('POST', '/api/v1/auth/tokens', { name: 'test script' });
  if (created.status !== 201) throw new Error(`token creation failed: ${created.status} ${JSON.stringify(created.body)}`);
  const token = created.body.secret as string;
  return { user: session.user, password: session.password, token, call: (method, path, body, headers) => call(parley, method, path, { body, token, headers }) };
}
