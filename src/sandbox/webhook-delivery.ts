import { hex } from './ids.ts';

export interface DeliveryAttempt {
  at: number;
  /** HTTP status Parley answered with; absent when it timed out or the connection failed. */
  status?: number;
  error?: string;
  durationMs: number;
  responseBody?: string;
  /** The exact bytes and headers of this attempt (they can differ between attempts, e.g. LINE redelivery). */
  body: string;
  headers: Record<string, string>;
}

export interface WebhookDelivery {
  id: string;
  provider: 'facebook' | 'twilio' | 'line';
  /** What this delivery carries, e.g. `message`, `echo`, `status`, `probe`. */
  kind: string;
  url: string;
  method: 'POST' | 'GET';
  ok: boolean;
  attempts: DeliveryAttempt[];
}

export interface DeliveryRequest {
  provider: WebhookDelivery['provider'];
  kind: string;
  url: string;
  method?: 'POST' | 'GET';
  /** Builds the request for attempt N (0 = first); lets LINE mark redeliveries. */
  build(attempt: number): { body: string; headers: Record<string, string> };
}

export interface DeliveryPolicy {
  /** An answer slower than this counts as a failure. */
  timeoutMs: number;
  /** Extra attempts after the first one fails. */
  retries: number;
  /** Pause between attempts (the providers retry "immediately"; a few ms keeps logs readable). */
  retryDelayMs?: number;
  /** When false, only timeouts and connection failures are retried, not error statuses (Twilio). */
  retryOnStatus?: boolean;
}

/** Sends one webhook, retrying on non-2xx answers, timeouts and connection failures. */
export async function deliverWebhook(
  request: DeliveryRequest,
  policy: DeliveryPolicy,
  now: () => number = Date.now,
): Promise<WebhookDelivery> {
  const delivery: WebhookDelivery = {
    id: 'wh_' + hex(8),
    provider: request.provider,
    kind: request.kind,
    url: request.url,
    method: request.method ?? 'POST',
    ok: false,
    attempts: [],
  };
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    if (attempt > 0 && policy.retryDelayMs) await sleep(policy.retryDelayMs);
    const { body, headers } = request.build(attempt);
    const started = performance.now();
    const record: DeliveryAttempt = { at: now(), durationMs: 0, body, headers };
    try {
      const response = await fetch(request.url, {
        method: delivery.method,
        headers,
        body: delivery.method === 'GET' ? undefined : body,
        signal: AbortSignal.timeout(policy.timeoutMs),
        redirect: 'manual',
      });
      record.status = response.status;
      record.responseBody = await response.text();
    } catch (error) {
      record.error = describeFailure(error);
    }
    record.durationMs = Math.round(performance.now() - started);
    delivery.attempts.push(record);
    if (record.status !== undefined && record.status >= 200 && record.status < 300) {
      delivery.ok = true;
      break;
    }
    if (record.status !== undefined && policy.retryOnStatus === false) break;
  }
  return delivery;
}

function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
    const cause = (error as Error & { cause?: { code?: string } }).cause;
    return cause?.code ?? error.message;
  }
  return String(error);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
