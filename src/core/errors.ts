/**
 * Failures the domain reports in its own words; the HTTP layer (and the CLI) decide how to say
 * them. `field` names the input that was wrong; `retryAfterSeconds` says when to try again.
 */
export type DomainErrorKind = 'invalid' | 'not_found' | 'conflict' | 'not_allowed' | 'bad_credentials' | 'rate_limited';

export class DomainError extends Error {
  override name = 'DomainError';
  readonly kind: DomainErrorKind;
  readonly field?: string;
  readonly retryAfterSeconds?: number;
  /** Plain values a program may use (e.g. which channel holds a page), added to the error answer. */
  readonly details?: Record<string, unknown>;
  constructor(kind: DomainErrorKind, message: string, extra: { field?: string; retryAfterSeconds?: number; details?: Record<string, unknown> } = {}) {
    super(message);
    this.kind = kind;
    this.field = extra.field;
    this.retryAfterSeconds = extra.retryAfterSeconds;
    this.details = extra.details;
  }
}

export const invalid = (field: string, message: string) => new DomainError('invalid', `${field}: ${message}`, { field });
export const notFound = (what: string) => new DomainError('not_found', `${what} not found`);
export const conflict = (message: string, details?: Record<string, unknown>) => new DomainError('conflict', message, { details });
export const notAllowed = (message: string) => new DomainError('not_allowed', message);

/** The PostgreSQL error of a violated unique constraint, on PostgreSQL and the embedded database alike. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23505';
}
