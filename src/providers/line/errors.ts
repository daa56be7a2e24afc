import { retryAfterMs, type HttpAnswer } from '../http.ts';
import { ProviderError, type DeliveryErrorClass } from '../types.ts';
import { parseJson, record, records, text } from '../values.ts';

/** LINE has no error codes, only HTTP statuses (reference §3.4): the status is the classification. */
export function classifyLineError(httpStatus: number): DeliveryErrorClass {
  // 403: the plan or channel lacks the permission; an admin has to act, as for a bad token.
  if (httpStatus === 401 || httpStatus === 403) return 'auth';
  if (httpStatus === 429) return 'rate_limited';
  if (httpStatus >= 500) return 'transient';
  return 'invalid_request';
}

export function lineError(answer: HttpAnswer): ProviderError {
  const body = record(parseJson(answer.body));
  const details = records(body?.details)
    .map((d) => [text(d.property), text(d.message)].filter(Boolean).join(': '))
    .filter(Boolean);
  const message = [text(body?.message) ?? `HTTP ${answer.status}`, ...details].join('; ');
  return new ProviderError('line', classifyLineError(answer.status), { code: String(answer.status), message }, answer.status, retryAfterMs(answer.headers));
}
