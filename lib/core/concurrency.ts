// A few at a time: refreshing many tokens (the CLI, a watcher's first pass) must neither run
// every source at once nor hold a waiting promise chain per token.

/** Calls `fn` on each item in order, at most `limit` at a time, holding nothing for the items
 * not started yet. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
