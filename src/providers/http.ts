import { ProviderError, type ProviderId } from './types.ts';

/**
 * The one way adapters call out: fetch with a deadline, JSON or form bodies, bounded bodies, and
 * redirects followed by hand so credentials never travel to another host. Network failures and
 * timeouts become transient ProviderErrors here; HTTP error statuses are returned to the adapter,
 * which alone knows its provider's error codes.
 */
export interface HttpCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  json?: unknown;
  form?: URLSearchParams;
  timeoutMs: number;
  /** Refuse (while streaming) answers larger than this. */
  maxBytes?: number;
  /** GET only: how many redirects to follow (default none). */
  maxRedirects?: number;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The URL that finally answered (after redirects). */
  url: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function httpCall(provider: ProviderId, call: HttpCall): Promise<HttpAnswer> {
  const signal = AbortSignal.timeout(call.timeoutMs);
  let url = call.url;
  let headers: Record<string, string> = { ...call.headers };
  let body: string | undefined;
  if (call.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(call.json);
  } else if (call.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = call.form.toString();
  }
  try {
    for (let hops = 0; ; hops++) {
      const response = await fetch(url, { method: call.method, headers, body, signal, redirect: 'manual' });
      const location = response.headers.get('location');
      if (call.method === 'GET' && REDIRECTS.has(response.status) && location && hops < (call.maxRedirects ?? 0)) {
        await response.body?.cancel();
        const next = new URL(location, url);
        // A provider's media URL redirects to a CDN: the credentials were for the provider only.
        if (next.origin !== new URL(url).origin) headers = withoutAuthorization(headers);
        url = next.toString();
        continue;
      }
      return { status: response.status, headers: response.headers, body: await readBody(provider, response, call.maxBytes), url };
    }
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    throw new ProviderError(provider, 'transient', {
      code: timedOut ? 'timeout' : 'network',
      message: timedOut ? `no answer within ${call.timeoutMs} ms` : describeNetworkError(error),
    });
  }
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
}

async function readBody(provider: ProviderId, response: Response, maxBytes: number | undefined): Promise<Buffer> {
  if (maxBytes === undefined) return Buffer.from(await response.arrayBuffer());
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(provider, maxBytes);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(provider, maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function tooLarge(provider: ProviderId, maxBytes: number): ProviderError {
  return new ProviderError(provider, 'invalid_request', { code: 'too_large', message: `the content is too large (more than ${maxBytes} bytes)` });
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return 'the connection failed';
  const cause = (error as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? cause.message : undefined;
  return detail ? `${error.message}: ${detail}` : error.message;
}

/** Retry-After as delay-seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function basicAuthorization(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

export function bearerAuthorization(token: string): string {
  return `Bearer ${token}`;
}

export function isSuccess(answer: HttpAnswer): boolean {
  return answer.status >= 200 && answer.status < 300;
}

/** Base URL + path, tolerating a trailing slash in configuration. */
export function joinUrl(base: string, path: string, query?: Record<string, string>): string {
  const url = base.replace(/\/+$/, '') + path;
  const search = query ? new URLSearchParams(query).toString() : '';
  return search ? `${url}?${search}` : url;
}
