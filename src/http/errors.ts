import type { FastifyError, FastifyInstance } from 'fastify';
import { DomainError, type DomainErrorKind } from '../core/errors.ts';

/**
 * Every error answers as JSON `{error: {code, message}}`, with the HTTP status that says what
 * went wrong; a failure of ours is logged with its stack and answered without one.
 */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly details?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
  constructor(statusCode: number, code: string, message: string, details?: Record<string, unknown>, headers?: Record<string, string>) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>) => new HttpError(400, 'bad_request', message, details);
export const unauthorized = (message = 'sign in first, or send an API token as Authorization: Bearer <token>') =>
  new HttpError(401, 'unauthorized', message, undefined, { 'www-authenticate': 'Bearer' });
export const forbidden = (message = 'your role does not allow this', code = 'forbidden') => new HttpError(403, code, message);
export const notFound = (message = 'not found') => new HttpError(404, 'not_found', message);
export const conflict = (message: string, details?: Record<string, unknown>) => new HttpError(409, 'conflict', message, details);
export const unprocessable = (field: string, message: string) => new HttpError(422, 'validation_failed', `${field}: ${message}`, { field });
export const tooManyRequests = (message: string, retryAfterSeconds: number) =>
  new HttpError(429, 'rate_limited', message, undefined, { 'retry-after': String(retryAfterSeconds) });

const DOMAIN_STATUS: Record<DomainErrorKind, [number, string]> = {
  invalid: [422, 'validation_failed'],
  not_found: [404, 'not_found'],
  conflict: [409, 'conflict'],
  not_allowed: [403, 'forbidden'],
  bad_credentials: [401, 'bad_credentials'],
  rate_limited: [429, 'rate_limited'],
};

/** The HTTP answer to a failure the domain reported. */
export function fromDomain(error: DomainError): HttpError {
  const [status, code] = DOMAIN_STATUS[error.kind];
  const headers = error.retryAfterSeconds !== undefined ? { 'retry-after': String(error.retryAfterSeconds) } : undefined;
  const details = error.field || error.details ? { ...error.details, ...(error.field ? { field: error.field } : {}) } : undefined;
  return new HttpError(status, code, error.message, details, headers);
}

function fieldOf(error: FastifyError): string | undefined {
  const first = error.validation?.[0];
  if (!first) return undefined;
  const path = (first.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const missing = (first.params as { missingProperty?: string } | undefined)?.missingProperty;
  return [path, missing].filter(Boolean).join('.') || undefined;
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((thrown: FastifyError, request, reply) => {
    const error = thrown instanceof DomainError ? fromDomain(thrown) : thrown;
    if (error instanceof HttpError) {
      if (error.headers) reply.headers(error.headers);
      return reply.status(error.statusCode).send({ error: { code: error.code, message: error.message, ...error.details } });
    }
    if (error.validation) {
      const field = fieldOf(error);
      const where = error.validationContext ?? 'body';
      const message = `${where}${field ? `.${field}` : ''} ${error.validation[0]?.message ?? 'is invalid'}`;
      return reply.status(where === 'body' ? 422 : 400).send({ error: { code: 'validation_failed', message, field } });
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.status(500).send({ error: { code: 'internal', message: 'something went wrong on our side; the error is logged with this request id', requestId: request.id } });
    }
    // Fastify's own client errors: malformed JSON, body too large, unsupported media type...
    const code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status === 429 ? 'rate_limited' : 'bad_request';
    return reply.status(status).send({ error: { code, message: error.message } });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: { code: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` } });
  });
}
