import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Notifier } from '../db/notifier.ts';
import type { DB } from '../db/schema.ts';
import { claim, complete, completeMany, enqueue, fail, releaseExpiredLeases, type Job } from './queue.ts';

/** Throw from a handler to choose when the next attempt happens (e.g. a provider's Retry-After). */
export class RetryLater extends Error {
  override name = 'RetryLater';
  readonly delayMs: number;
  constructor(message: string, delayMs: number) {
    super(message);
    this.delayMs = delayMs;
  }
}

/** Throw from a handler when retrying cannot help: the job goes straight to the dead-letter list. */
export class PermanentFailure extends Error {
  override name = 'PermanentFailure';
}

export type JobHandler = (job: Job) => Promise<void>;

/**
 * Handles several jobs of one queue at once, typically in one transaction (one commit for the
 * lot). It completes the jobs it finished with `complete(trx, jobs)` inside that transaction,
 * and returns the jobs that failed with their error (each is retried on its own).
 */
export type BatchHandler = (jobs: Job[], complete: (trx: Kysely<DB>, jobs: Job[]) => Promise<void>) => Promise<Map<number, Error>>;

export interface JobEvents {
  onOutcome?(queue: string, outcome: 'completed' | 'retried' | 'dead', job: Job, error?: Error): void;
  onError?(error: Error): void;
}

export interface RunnerOptions {
  concurrency: number;
  /** How long a claimed job stays reserved for this worker before others may take it over. */
  leaseMs?: number;
  /** Fallback polling when no notification arrives (scheduled jobs, other instances' retries). */
  pollMs?: number;
  events?: JobEvents;
}

interface Recurring {
  queue: string;
  everyMs: number;
}

/** Exponential backoff with jitter: 1 s, 2 s, 4 s ... capped at 1 h. */
export function backoffMs(attempt: number): number {
  const base = Math.min(3_600_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

/**
 * Runs jobs from the database: wakes on LISTEN/NOTIFY when jobs are added, polls as a fallback,
 * runs at most `concurrency` at once, and on stop finishes what it started. Safe with any number
 * of runners in any number of processes.
 */
export class JobRunner {
  readonly id = `w-${randomUUID()}`;
  readonly #db: Kysely<DB>;
  readonly #notifier: Notifier;
  readonly #handlers = new Map<string, JobHandler>();
  readonly #batchHandlers = new Map<string, { handler: BatchHandler; size: number }>();
  readonly #recurring = new Map<string, Recurring>();
  readonly #options: Required<Omit<RunnerOptions, 'events'>> & { events: JobEvents };
  readonly #inFlight = new Set<Promise<void>>();
  #running = false;
  #polling = false;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #lastReap = 0;
  #unlisten: (() => Promise<void>) | undefined;

  constructor(db: Kysely<DB>, notifier: Notifier, options: RunnerOptions) {
    this.#db = db;
    this.#notifier = notifier;
    this.#options = { leaseMs: 300_000, pollMs: 1000, events: {}, ...options };
  }

  get running(): boolean {
    return this.#running;
  }

  get busy(): number {
    return this.#inFlight.size;
  }

  register(queue: string, handler: JobHandler): this {
    this.#handlers.set(queue, handler);
    return this;
  }

  /** Jobs of `queue` are claimed and handled up to `size` at a time (each batch takes one slot). */
  registerBatch(queue: string, size: number, handler: BatchHandler): this {
    this.#batchHandlers.set(queue, { handler, size });
    return this;
  }

  /** Runs `handler` every `everyMs`, once across all instances (a singleton job per queue). */
  every(queue: string, everyMs: number, handler: JobHandler): this {
    this.#recurring.set(queue, { queue, everyMs });
    return this.register(queue, handler);
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#unlisten = await this.#notifier.listen('parley_jobs', (queue) => {
      if (this.#handlers.has(queue) || this.#batchHandlers.has(queue)) this.wake();
    });
    for (const r of this.#recurring.values()) {
      await enqueue(this.#db, { queue: r.queue, singletonKey: `every:${r.queue}`, runAt: new Date(Date.now() + r.everyMs) });
    }
    this.#schedule(0);
  }

  /** Looks for work now. */
  wake(): void {
    if (!this.#running) return;
    if (this.#polling) {
      this.#again = true;
      return;
    }
    void this.#poll();
  }

  /** Stops claiming, then waits for the jobs already running (at most `timeoutMs`). */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#unlisten?.();
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#inFlight]),
      new Promise((resolve) => (timeout = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timeout);
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    if (!this.#running) return;
    this.#timer = setTimeout(() => this.wake(), ms);
    this.#timer.unref();
  }

  async #poll(): Promise<void> {
    this.#polling = true;
    try {
      do {
        this.#again = false;
        if (Date.now() - this.#lastReap > 10_000) {
          this.#lastReap = Date.now();
          await releaseExpiredLeases(this.#db);
        }
        for (const [queue, { size }] of this.#batchHandlers) {
          if (this.#inFlight.size >= this.#options.concurrency) break;
          const batch = await claim(this.#db, [queue], this.id, size, this.#options.leaseMs);
          if (batch.length > 0) this.#track(this.#runBatch(queue, batch));
          if (batch.length === size) this.#again = true;
        }
        const free = this.#options.concurrency - this.#inFlight.size;
        const jobs = await claim(this.#db, [...this.#handlers.keys()], this.id, free, this.#options.leaseMs);
        for (const job of jobs) this.#track(this.#run(job));
        if (jobs.length === free && free > 0) this.#again = true;
      } while (this.#again && this.#running && this.#inFlight.size < this.#options.concurrency);
    } catch (error) {
      this.#options.events.onError?.(error as Error);
    } finally {
      this.#polling = false;
      this.#schedule(this.#options.pollMs);
    }
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => {
      this.#inFlight.delete(work);
      // a freed slot (and possibly the next job of the same group) can be taken at once
      this.wake();
    });
  }

  async #runBatch(queue: string, jobs: Job[]): Promise<void> {
    const events = this.#options.events;
    let failures: Map<number, Error>;
    const completed = new Set<number>();
    try {
      failures = await this.#batchHandlers.get(queue)!.handler(jobs, async (trx, done) => {
        await completeMany(trx, done, this.id);
        for (const job of done) completed.add(job.id);
      });
    } catch (caught) {
      // the whole batch failed (its transaction rolled back): every job is retried on its own
      const error = caught instanceof Error ? caught : new Error(String(caught));
      failures = new Map(jobs.map((job) => [job.id, error]));
      completed.clear();
    }
    for (const job of jobs) {
      const error = failures.get(job.id);
      if (error) await this.#failed(job, error);
      else if (completed.has(job.id)) events.onOutcome?.(job.queue, 'completed', job);
      else await this.#failed(job, new Error('the batch handler neither completed nor failed this job'));
    }
  }

  async #failed(job: Job, error: Error): Promise<void> {
    const events = this.#options.events;
    try {
      const delay = error instanceof RetryLater ? error.delayMs : backoffMs(job.attempts);
      const state = await fail(this.#db, job, this.id, error.message, delay, error instanceof PermanentFailure);
      events.onOutcome?.(job.queue, state === 'dead' ? 'dead' : 'retried', job, error);
    } catch (storeError) {
      // the lease will expire and the job will be retried
      events.onError?.(storeError as Error);
    }
  }

  async #run(job: Job): Promise<void> {
    const events = this.#options.events;
    try {
      await this.#handlers.get(job.queue)!(job);
      const recurring = this.#recurring.get(job.queue);
      if (recurring) {
        await this.#db.transaction().execute(async (trx) => {
          await complete(trx, job, this.id);
          await enqueue(trx, { queue: job.queue, singletonKey: `every:${job.queue}`, runAt: new Date(Date.now() + recurring.everyMs) });
        });
      } else {
        await complete(this.#db, job, this.id);
      }
      events.onOutcome?.(job.queue, 'completed', job);
    } catch (caught) {
      await this.#failed(job, caught instanceof Error ? caught : new Error(String(caught)));
    }
  }
}
