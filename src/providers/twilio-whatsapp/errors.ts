import { retryAfterMs, type HttpAnswer } from '../http.ts';
import { ProviderError, type DeliveryErrorClass } from '../types.ts';
import { finite, parseJson, record, text } from '../values.ts';

/** Twilio error codes (reference §2.4) grouped by what Parley does next. */
const AUTH = new Set([20003]);
const RATE_LIMITED = new Set([20429, 63017, 63018]);
const WINDOW_CLOSED = new Set([63016]);
// The customer's address cannot receive: invalid or unknown number, opted out, not on WhatsApp.
const RECIPIENT_UNAVAILABLE = new Set([21211, 21610, 21614, 63003, 63024]);

export function classifyTwilioError(code: number | undefined, httpStatus: number | undefined): DeliveryErrorClass {
  if (code !== undefined) {
    if (AUTH.has(code)) return 'auth';
    if (RATE_LIMITED.has(code)) return 'rate_limited';
    if (WINDOW_CLOSED.has(code)) return 'window_closed';
    if (RECIPIENT_UNAVAILABLE.has(code)) return 'recipient_unavailable';
  }
  if (httpStatus === 401) return 'auth';
  if (httpStatus === 429) return 'rate_limited';
  if (httpStatus !== undefined && httpStatus >= 500) return 'transient';
  // 21602, 21606, 63007, 21617, 21620, 21655, ...: our request or the channel setup is wrong.
  return 'invalid_request';
}

export function twilioError(answer: HttpAnswer): ProviderError {
  const body = record(parseJson(answer.body));
  const code = finite(body?.code);
  return new ProviderError(
    'twilio-whatsapp',
    classifyTwilioError(code, answer.status),
    { code: code !== undefined ? String(code) : `http_${answer.status}`, message: text(body?.message) ?? `HTTP ${answer.status}` },
    answer.status,
    retryAfterMs(answer.headers),
  );
}
