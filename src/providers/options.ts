/** Tuning shared by every adapter; the defaults suit production, tests shrink them. */
export interface AdapterOptions {
  /** Per API call, including reading the answer. */
  timeoutMs?: number;
  /** Per media download, which can be large and slow. */
  mediaTimeoutMs?: number;
  /** Downloads larger than this are refused while streaming (bytes). */
  maxMediaBytes?: number;
  /** Wait suggested when LINE is still preparing content and says nothing about when to ask again. */
  mediaPreparingRetryMs?: number;
}

export type ResolvedOptions = Required<AdapterOptions>;

export const MB = 1024 * 1024;

export function resolveOptions(options: AdapterOptions = {}): ResolvedOptions {
  return {
    timeoutMs: options.timeoutMs ?? 15_000,
    mediaTimeoutMs: options.mediaTimeoutMs ?? 120_000,
    maxMediaBytes: options.maxMediaBytes ?? 25 * MB,
    mediaPreparingRetryMs: options.mediaPreparingRetryMs ?? 2_000,
  };
}
