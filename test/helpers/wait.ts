/** Polls `probe` until it gives something truthy (returned), or fails after `ms`. */
export async function until<T>(probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 8000, what = 'a condition'): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}
