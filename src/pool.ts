// A bounded pool of promises: the Firehose calls of a consumer batch and the forward consumer's
// /v1/batch calls each run at most a fixed number at a time. Pure.

/** Runs `task` over `items`, at most `limit` at a time, results in order. */
export async function inPool<T, R>(
  items: readonly T[],
  limit: number,
  task: (t: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
