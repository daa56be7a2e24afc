import { retryAfterMs, type HttpAnswer } from '../http.ts';
import { ProviderError, type DeliveryErrorClass } from '../types.ts';
import { finite, parseJson, record, text } from '../values.ts';

/** Graph error codes and subcodes (reference §1.6) that decide what Parley does next. */
const WINDOW_SUBCODES = new Set([2018278, 2534022, 2018065]);
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613]);
const AUTH_CODES = new Set([190, 102]);
const TRANSIENT_CODES = new Set([1, 2]);
const THREAD_OWNED = 2018300;
const NOT_AVAILABLE_SUBCODE = 1545041;

/** Classifies by code and subcode only: Meta rewords its messages, never its codes. */
export function classifyGraphError(code: number | undefined, subcode: number | undefined, httpStatus: number): DeliveryErrorClass {
  if (code === THREAD_OWNED || subcode === THREAD_OWNED) return 'thread_owned_elsewhere';
  if (code !== undefined && AUTH_CODES.has(code)) return 'auth';
  if (code === 10 && subcode !== undefined && WINDOW_SUBCODES.has(subcode)) return 'window_closed';
  if (code === 10 && subcode === 2018108) return 'recipient_unavailable';
  if (code === 551 || subcode === NOT_AVAILABLE_SUBCODE) return 'recipient_unavailable';
  if (code === 100 && subcode === 2018001) return 'recipient_unavailable';
  // 613/2018338: too many tagged messages to one person; waiting does not make it acceptable.
  if (code === 613 && subcode === 2018338) return 'invalid_request';
  if (code !== undefined && RATE_LIMIT_CODES.has(code)) return 'rate_limited';
  // 200: pages_messaging is not approved for this app; an admin has to fix the app, like a bad token.
  if (code === 200) return 'auth';
  if (code !== undefined && TRANSIENT_CODES.has(code)) return 'transient';
  if (httpStatus >= 500) return 'transient';
  return 'invalid_request';
}

export interface GraphErrorBody {
  code?: number;
  subcode?: number;
  message: string;
}

export function readGraphError(body: Buffer): GraphErrorBody {
  const error = record(record(parseJson(body))?.error);
  const code = finite(error?.code);
  const subcode = finite(error?.error_subcode);
  return {
    ...(code !== undefined ? { code } : {}),
    ...(subcode !== undefined ? { subcode } : {}),
    message: text(error?.message) ?? (body.length ? body.toString('utf8').slice(0, 200) : 'no error details'),
  };
}

export function graphError(answer: HttpAnswer): ProviderError {
  const { code, subcode, message } = readGraphError(answer.body);
  return new ProviderError(
    'facebook',
    classifyGraphError(code, subcode, answer.status),
    { code: code !== undefined ? String(code) : `http_${answer.status}`, ...(subcode !== undefined ? { subcode: String(subcode) } : {}), message },
    answer.status,
    retryAfterMs(answer.headers),
  );
}
