import { hex } from './ids.ts';

/**
 * Faults every emulator understands. Request faults change how a provider API call is answered;
 * webhook faults change how the emulator delivers events to Parley.
 */
export const REQUEST_FAULTS = [
  'invalid-token',
  'expired-token',
  'outside-window',
  'rate-limit',
  'app-rate-limit',
  'server-error',
  'delay',
  'drop',
] as const;
export const WEBHOOK_FAULTS = ['duplicate', 'redeliver', 'batch', 'reorder'] as const;

export type RequestFaultKind = (typeof REQUEST_FAULTS)[number];
export type WebhookFaultKind = (typeof WEBHOOK_FAULTS)[number];
export type FaultKind = RequestFaultKind | WebhookFaultKind;

export interface FaultMatch {
  /** Access token (Facebook page token, LINE channel token) or Twilio account SID. */
  token?: string;
  /** Page id, WhatsApp number (`whatsapp:+...`) or LINE channel id / bot user id. */
  target?: string;
  /** Only requests whose path contains this text. */
  path?: string;
}

export interface FaultInput {
  kind: FaultKind;
  /** Applies to the next N matching requests or deliveries, then disappears. Unlimited when absent. */
  times?: number;
  match?: FaultMatch;
  /** For `delay`: how long to hold the answer. */
  delayMs?: number;
  /** For `batch` and `reorder`: how many events to gather before delivering them. */
  count?: number;
}

export interface FaultRule extends FaultInput {
  id: string;
  remaining: number | null;
}

export interface FaultContext {
  token?: string | undefined;
  targets?: Array<string | undefined>;
  path?: string;
}

export function isFaultKind(value: unknown): value is FaultKind {
  return (
    typeof value === 'string' &&
    ((REQUEST_FAULTS as readonly string[]).includes(value) || (WEBHOOK_FAULTS as readonly string[]).includes(value))
  );
}

export class FaultSet {
  #rules: FaultRule[] = [];

  add(input: FaultInput): FaultRule {
    if (!isFaultKind(input.kind)) throw new Error(`unknown fault kind: ${String(input.kind)}`);
    const rule: FaultRule = { ...input, id: 'fault_' + hex(6), remaining: input.times ?? null };
    this.#rules.push(rule);
    return rule;
  }

  list(): FaultRule[] {
    return this.#rules.map((rule) => ({ ...rule }));
  }

  remove(id: string): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((rule) => rule.id !== id);
    return this.#rules.length !== before;
  }

  clear(): void {
    this.#rules = [];
  }

  /** Consumes one use of the first rule of the given kinds that matches the context. */
  take(kinds: readonly FaultKind[], context: FaultContext): FaultRule | undefined {
    const rule = this.#rules.find((r) => kinds.includes(r.kind) && matches(r.match, context));
    if (!rule) return undefined;
    if (rule.remaining !== null) {
      rule.remaining -= 1;
      if (rule.remaining <= 0) this.remove(rule.id);
    }
    return { ...rule };
  }
}

function matches(match: FaultMatch | undefined, context: FaultContext): boolean {
  if (!match) return true;
  if (match.token !== undefined && match.token !== context.token) return false;
  if (match.target !== undefined && !(context.targets ?? []).includes(match.target)) return false;
  if (match.path !== undefined && !(context.path ?? '').includes(match.path)) return false;
  return true;
}
