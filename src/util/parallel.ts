/**
 * Running one task per item, a few at a time, where one failure makes the rest pointless (layer
 * downloads, uploads, layer exports): the first failure aborts the signal every task was given,
 * and nothing is thrown before every task has settled — so no task is still writing a blob when
 * the caller cleans up or reports.
 */
import PQueue from 'p-queue';
import { throwIfAborted } from './errors.js';

export interface AllOrFirstErrorOptions {
  /** Tasks running at once (at least 1). */
  readonly concurrency: number;
  /** The caller's cancellation: passed on to the tasks, and what is thrown when it fired. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Runs `task(item, index, signal)` for every item. Throws, once all have settled: a cancellation
 * when the caller's signal fired, else the first task error (the failures it caused in the
 * others, once their signal was aborted, are not reported).
 */
export async function allOrFirstError<T>(
  items: readonly T[],
  opts: AllOrFirstErrorOptions,
  task: (item: T, index: number, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  // No signal for p-queue itself: it would settle a job while its task is still running.
  const queue = new PQueue({ concurrency: Math.max(1, opts.concurrency) });
  let first: { error: unknown } | undefined;
  await Promise.all(items.map((item, i) => queue.add(async () => {
    try {
      throwIfAborted(signal);
      await task(item, i, signal);
    } catch (e) {
      if (first === undefined && !stop.signal.aborted) first = { error: e };
      stop.abort(e);
    }
  })));
  throwIfAborted(opts.signal);
  if (first !== undefined) throw first.error;
}

/** Resolves once all of `ps` settled; rejects with the first rejection (in order) if any. */
export async function allSettledOrFirstError(ps: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(ps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
