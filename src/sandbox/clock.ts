/**
 * The emulators judge messaging windows, reply-token expiry and retry-key lifetimes by this clock,
 * so tests can jump a day ahead instead of waiting for one.
 */
export interface Clock {
  now(): number;
  /** Moves this clock (and everything that reads it) forward; negative values move it back. */
  advance(ms: number): void;
  /** Pins the clock to an absolute epoch-ms instant. */
  set(ms: number): void;
  /** Returns to following the system time. */
  reset(): void;
}

export function createClock(base: () => number = Date.now): Clock {
  let offset = 0;
  let pinned: number | undefined;
  return {
    now: () => (pinned ?? base()) + offset,
    advance(ms) {
      offset += ms;
    },
    set(ms) {
      pinned = ms;
      offset = 0;
    },
    reset() {
      pinned = undefined;
      offset = 0;
    },
  };
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
