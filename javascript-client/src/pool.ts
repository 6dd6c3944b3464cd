/**
 * Runs `task` on every item in order, at most `concurrency` at a time. After
 * the first failure no new item starts, and `onFirstFailure` lets the caller
 * stop the ones still running; the returned promise rejects with that first
 * failure once every started task has settled, so nothing runs on behind it.
 */
export async function runBounded<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
  onFirstFailure: (error: unknown) => void,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        if (!failure) {
          failure = { error };
          onFirstFailure(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure) throw failure.error;
}
