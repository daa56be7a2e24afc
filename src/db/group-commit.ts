/**
 * Group commit: concurrent callers' writes go to the database together, one transaction for
 * all, and each caller resumes only after that commit. While one batch commits, the next one
 * fills up, so the batch size follows the load with no added latency at low load.
 */
export interface GroupCommitOptions<T> {
  /** Writes a whole batch in one transaction. */
  write(items: T[]): Promise<void>;
  /** The most items written at once. */
  maxBatch?: number;
  /** Batches committing at the same time (more connections commit in parallel; 1 on a single-connection database). */
  concurrency?: number;
}

interface Pending<T> {
  items: T[];
  resolve(): void;
  reject(error: unknown): void;
}

export class GroupCommitter<T> {
  readonly #write: (items: T[]) => Promise<void>;
  readonly #maxBatch: number;
  readonly #concurrency: number;
  #queue: Pending<T>[] = [];
  #flushing = 0;

  constructor(options: GroupCommitOptions<T>) {
    this.#write = options.write;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#concurrency = options.concurrency ?? 1;
  }

  /** Resolves once `items` are committed; rejects if they could not be. */
  submit(items: T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#queue.push({ items, resolve, reject });
      if (this.#flushing < this.#concurrency) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing += 1;
    try {
      while (this.#queue.length > 0) {
        const batch: Pending<T>[] = [];
        let size = 0;
        while (this.#queue.length > 0 && (batch.length === 0 || size + this.#queue[0]!.items.length <= this.#maxBatch)) {
          const next = this.#queue.shift()!;
          batch.push(next);
          size += next.items.length;
        }
        await this.#commit(batch);
      }
    } finally {
      this.#flushing -= 1;
    }
  }

  async #commit(batch: Pending<T>[]): Promise<void> {
    try {
      await this.#write(batch.flatMap((p) => p.items));
      for (const p of batch) p.resolve();
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // one bad submission must not fail its neighbours: write each on its own
      for (const p of batch) {
        try {
          await this.#write(p.items);
          p.resolve();
        } catch (own) {
          p.reject(own);
        }
      }
    }
  }
}
