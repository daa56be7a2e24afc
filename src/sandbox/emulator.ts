import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createClock, type Clock } from './clock.ts';
import { FaultSet, isFaultKind, type FaultContext, type FaultInput, type FaultKind } from './faults.ts';
import {
  createApp,
  header,
  isRecord,
  jsonObjectOf,
  listen,
  pathOf,
  queryOf,
  rawBodyOf,
  send,
  type Answer,
  type RawBody,
} from './http.ts';
import { MediaStore } from './media.ts';
import { Recorder } from './recorder.ts';
import { sleep, type WebhookDelivery } from './webhook-delivery.ts';

/** One call Parley made to a provider API, with the emulator's answer. */
export interface SentRequest {
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed JSON, or the form fields as an object (repeated fields as arrays), or the raw text. */
  body: unknown;
  status: number;
  response: unknown;
  dropped?: boolean;
}

export interface ProviderRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  body: RawBody;
  raw: FastifyRequest;
}

export interface EmulatorOptions {
  clock?: Clock;
}

/** Test API paths live under this prefix, never mixed with provider paths. */
export const TEST_API = '/_sandbox';

type Route = (app: FastifyInstance) => void;

/**
 * What the three emulators share: a clock, recorded requests and webhook deliveries, fault rules,
 * hosted media, the webhook fault pipeline and the common test API.
 */
export abstract class Emulator<Settings extends object> {
  readonly clock: Clock;
  readonly faults = new FaultSet();
  readonly sent = new Recorder<SentRequest>();
  readonly webhooks = new Recorder<WebhookDelivery>();
  readonly media = new MediaStore();
  abstract readonly provider: WebhookDelivery['provider'];
  abstract settings: Settings;
  /** Public base URL once listening (also used to build media URLs); `http://sandbox.invalid` before. */
  baseUrl = 'http://sandbox.invalid';
  #app: FastifyInstance | undefined;
  #extraRoutes: Route[] = [];
  #held: { rule: FaultInput; items: HeldItem[]; timer: NodeJS.Timeout } | undefined;

  constructor(options: EmulatorOptions = {}) {
    this.clock = options.clock ?? createClock();
  }

  protected abstract defaultSettings(): Settings;
  protected abstract registerProviderRoutes(app: FastifyInstance): void;
  protected abstract registerTestRoutes(app: FastifyInstance): void;
  /** The provider's answer for an error fault, or undefined when this provider has no such error. */
  protected abstract faultAnswer(kind: FaultKind): Answer | undefined;
  protected abstract clearState(keepSeeds: boolean): void;

  /** Adds routes (before the app is first built), e.g. the shared customer endpoint. */
  addRoutes(route: Route): void {
    this.#extraRoutes.push(route);
  }

  get app(): FastifyInstance {
    if (!this.#app) {
      const app = createApp();
      this.registerProviderRoutes(app);
      this.registerCommonTestRoutes(app);
      this.registerTestRoutes(app);
      for (const route of this.#extraRoutes) route(app);
      this.#app = app;
    }
    return this.#app;
  }

  async listen(host = '127.0.0.1', port = 0): Promise<string> {
    this.baseUrl = await listen(this.app, host, port);
    return this.baseUrl;
  }

  async close(): Promise<void> {
    if (this.#held) clearTimeout(this.#held.timer);
    await this.#app?.close();
  }

  injectFault(input: FaultInput) {
    return this.faults.add(input);
  }

  /** Clears recordings, faults and runtime state; seeded accounts survive unless `keepSeeds` is false. */
  reset(options: { keepSeeds?: boolean } = {}): void {
    const keepSeeds = options.keepSeeds ?? true;
    this.sent.clear();
    this.webhooks.clear();
    this.faults.clear();
    this.media.clear();
    if (this.#held) clearTimeout(this.#held.timer);
    this.#held = undefined;
    if (!keepSeeds) this.settings = this.defaultSettings();
    this.clearState(keepSeeds);
  }

  /** Registers a provider API route whose calls are recorded in `sent`. */
  protected route(
    app: FastifyInstance,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    handler: (request: ProviderRequest) => Answer | Promise<Answer>,
  ): void {
    app.route({
      method,
      url,
      handler: async (request, reply) => {
        const providerRequest: ProviderRequest = {
          method: request.method,
          path: pathOf(request),
          query: queryOf(request),
          params: (request.params ?? {}) as Record<string, string>,
          body: rawBodyOf(request),
          raw: request,
        };
        const answer = await handler(providerRequest);
        this.sent.add({
          at: this.clock.now(),
          method: request.method,
          path: providerRequest.path,
          query: Object.fromEntries(providerRequest.query),
          headers: recordedHeaders(request),
          body: describeBody(providerRequest.body),
          status: answer.drop ? 0 : answer.status,
          response: answer.body,
          ...(answer.drop ? { dropped: true } : {}),
        });
        return send(reply, answer);
      },
    });
  }

  /** Applies delay, drop and error faults matching this request; returns the answer to use instead, if any. */
  protected async requestFault(context: FaultContext): Promise<Answer | undefined> {
    const delay = this.faults.take(['delay'], context);
    if (delay) await sleep(delay.delayMs ?? 6000);
    if (this.faults.take(['drop'], context)) return { status: 0, drop: true };
    const kinds = (['invalid-token', 'expired-token', 'outside-window', 'rate-limit', 'app-rate-limit', 'server-error'] as const).filter(
      (kind) => this.faultAnswer(kind) !== undefined,
    );
    const rule = this.faults.take(kinds, context);
    return rule ? this.faultAnswer(rule.kind) : undefined;
  }

  /**
   * Delivers events to Parley through the webhook faults: `batch` gathers the next events into one
   * POST, `reorder` delivers them in reverse, `duplicate` sends the same bytes twice and
   * `redeliver` sends them again as the provider's redelivery.
   */
  protected async dispatch<E>(events: E[], context: FaultContext, channel: WebhookChannel<E>): Promise<WebhookDelivery[]> {
    if (!this.#held) {
      const rule = this.faults.take(['batch', 'reorder'], context);
      if (rule) {
        this.#held = {
          rule,
          items: [],
          timer: setTimeout(() => void this.#flush(), this.holdTimeoutMs),
        };
      }
    }
    if (this.#held) {
      const held = this.#held;
      const promise = new Promise<WebhookDelivery[]>((resolve) => {
        held.items.push({ events: events as unknown[], channel: channel as WebhookChannel<unknown>, resolve });
      });
      if (held.items.length >= (held.rule.count ?? 2)) void this.#flush();
      return promise;
    }
    return this.#deliverWithFaults(events, context, channel);
  }

  /** How long held events wait for the rest of their batch before going out anyway. */
  holdTimeoutMs = 1000;

  async #deliverWithFaults<E>(events: E[], context: FaultContext, channel: WebhookChannel<E>): Promise<WebhookDelivery[]> {
    const deliveries = [this.webhooks.add(await channel.post(events, false))];
    if (this.faults.take(['duplicate'], context)) deliveries.push(this.webhooks.add(await channel.post(events, false)));
    if (this.faults.take(['redeliver'], context)) deliveries.push(this.webhooks.add(await channel.post(events, true)));
    return deliveries;
  }

  async #flush(): Promise<void> {
    const held = this.#held;
    if (!held) return;
    this.#held = undefined;
    clearTimeout(held.timer);
    if (held.rule.kind === 'reorder') {
      for (const item of [...held.items].reverse()) {
        item.resolve([this.webhooks.add(await item.channel.post(item.events, false))]);
      }
      return;
    }
    // Events for the same destination share one POST; others go out separately.
    const groups = new Map<string, HeldItem[]>();
    for (const item of held.items) {
      const group = groups.get(item.channel.key) ?? [];
      group.push(item);
      groups.set(item.channel.key, group);
    }
    for (const group of groups.values()) {
      const first = group[0]!;
      if (first.channel.batchable) {
        const delivery = this.webhooks.add(await first.channel.post(group.flatMap((item) => item.events), false));
        for (const item of group) item.resolve([delivery]);
      } else {
        for (const item of group) item.resolve([this.webhooks.add(await item.channel.post(item.events, false))]);
      }
    }
  }

  private registerCommonTestRoutes(app: FastifyInstance): void {
    app.get(`${TEST_API}/sent`, async () => ({ sent: this.sent.all() }));
    app.get(`${TEST_API}/webhooks`, async () => ({ webhooks: this.webhooks.all() }));
    app.get(`${TEST_API}/faults`, async () => ({ faults: this.faults.list() }));
    app.post(`${TEST_API}/faults`, async (request, reply) => {
      const body = jsonObjectOf(request);
      if (!isFaultKind(body.kind)) return reply.code(400).send({ error: 'kind must be one of the fault kinds' });
      const rule = this.faults.add({
        kind: body.kind,
        ...(typeof body.times === 'number' ? { times: body.times } : {}),
        ...(isRecord(body.match) ? { match: body.match as FaultInput['match'] } : {}),
        ...(typeof body.delayMs === 'number' ? { delayMs: body.delayMs } : {}),
        ...(typeof body.count === 'number' ? { count: body.count } : {}),
      });
      return reply.code(201).send(rule);
    });
    app.delete(`${TEST_API}/faults`, async () => {
      this.faults.clear();
      return { ok: true };
    });
    app.delete<{ Params: { id: string } }>(`${TEST_API}/faults/:id`, async (request, reply) =>
      this.faults.remove(request.params.id) ? { ok: true } : reply.code(404).send({ error: 'no such fault' }),
    );
    app.post(`${TEST_API}/reset`, async (request) => {
      const body = jsonObjectOf(request);
      this.reset({ keepSeeds: body.keepSeeds !== false });
      return { ok: true };
    });
    app.get(`${TEST_API}/clock`, async () => ({ now: this.clock.now() }));
    app.post(`${TEST_API}/clock`, async (request) => {
      const body = jsonObjectOf(request);
      if (body.reset === true) this.clock.reset();
      if (typeof body.set === 'number') this.clock.set(body.set);
      if (typeof body.advanceMs === 'number') this.clock.advance(body.advanceMs);
      return { now: this.clock.now() };
    });
    app.get(`${TEST_API}/settings`, async () => this.settings);
    app.post(`${TEST_API}/settings`, async (request) => {
      const body = jsonObjectOf(request);
      const current = this.settings as Record<string, unknown>;
      for (const [key, value] of Object.entries(body)) {
        if (key in current && typeof value === typeof current[key]) current[key] = value;
      }
      return this.settings;
    });
  }
}

export interface WebhookChannel<E> {
  /** Deliveries with the same key can share one POST when batched. */
  key: string;
  batchable: boolean;
  post(events: E[], redelivery: boolean): Promise<WebhookDelivery>;
}

interface HeldItem {
  events: unknown[];
  channel: WebhookChannel<unknown>;
  resolve: (deliveries: WebhookDelivery[]) => void;
}

const RECORDED_HEADERS = ['content-type', 'authorization', 'x-line-retry-key', 'user-agent'];

function recordedHeaders(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of RECORDED_HEADERS) {
    const value = header(request, name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function describeBody(body: RawBody): unknown {
  if (body.form) {
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of body.form) {
      const existing = out[name];
      out[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    return out;
  }
  if (body.json !== undefined) return body.json;
  return body.raw.length ? body.raw.toString('utf8') : undefined;
}
