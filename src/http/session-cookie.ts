import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The browser session cookie: HttpOnly (no script reads it), SameSite=Lax (not sent with
 * cross-site posts), and Secure whenever the browser reaches us over https: directly, through a
 * trusted proxy (X-Forwarded-Proto), or at an https PUBLIC_URL.
 */
export const SESSION_COOKIE = 'parley_session';

function servedOverHttps(request: FastifyRequest, publicUrl: string | undefined): boolean {
  if (request.protocol === 'https') return true;
  if (!publicUrl?.startsWith('https://')) return false;
  return new URL(publicUrl).host === request.host;
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, secret: string, publicUrl: string | undefined): void {
  reply.setCookie(SESSION_COOKIE, secret, { httpOnly: true, sameSite: 'lax', path: '/', secure: servedOverHttps(request, publicUrl) });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply, publicUrl: string | undefined): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', path: '/', secure: servedOverHttps(request, publicUrl) });
}
