/** An append-only log that tests can read, clear, and wait on (for things that happen asynchronously). */
export class Recorder<T> {
  #items: T[] = [];
  #waiters: Array<{ match: (item: T) => boolean; resolve: (item: T) => void }> = [];

  add(item: T): T {
    this.#items.push(item);
    for (const waiter of [...this.#waiters]) {
      if (waiter.match(item)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(item);
      }
    }
    return item;
  }

  all(): T[] {
    return [...this.#items];
  }

  get length(): number {
    return this.#items.length;
  }

  last(): T | undefined {
    return this.#items.at(-1);
  }

  filter(match: (item: T) => boolean): T[] {
    return this.#items.filter(match);
  }

  clear(): void {
    this.#items = [];
  }

  /** Resolves with the first recorded item (already present or future) that matches. */
  waitFor(match: (item: T) => boolean = () => true, timeoutMs = 2000): Promise<T> {
    const found = this.#items.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (item: T) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`nothing matching was recorded within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }
}
