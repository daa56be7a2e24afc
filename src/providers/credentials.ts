import { ProviderError, type CredentialCheck } from './types.ts';

/** A refused credential check says why in the provider's own code and message; other failures are bugs. */
export function refused(error: unknown): CredentialCheck {
  if (!(error instanceof ProviderError)) throw error;
  return { ok: false, error: { ...error.info, errorClass: error.errorClass } };
}
