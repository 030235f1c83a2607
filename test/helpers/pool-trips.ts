/**
 * Counts the file-system requests a piece of code sends to libuv's thread pool (async_hooks
 * resources of type FSREQCALLBACK / FSREQPROMISE: one per fs call that is not synchronous). For
 * tests that hold a step's critical path to synchronous calls, where each trip would wait behind
 * the build's other file I/O (docs/benchmarks.md, s15-run-cost).
 */
import { createHook } from 'node:async_hooks';

export async function countPoolTrips<T>(fn: () => Promise<T>): Promise<{ readonly result: T; readonly trips: readonly string[] }> {
  const trips: string[] = [];
  const hook = createHook({
    init(_id, type) {
      if (type.startsWith('FSREQ')) trips.push(type);
    },
  });
  hook.enable();
  try {
    const result = await fn();
    return { result, trips };
  } finally {
    hook.disable();
  }
}
