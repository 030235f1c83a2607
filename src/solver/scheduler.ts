/**
 * The default Scheduler: a p-queue with a fixed number of slots. Vertices wait for their inputs
 * before asking for a slot, so a slot is held only while an op actually runs.
 */
import { availableParallelism } from 'node:os';
import PQueue from 'p-queue';
import { asCancelled } from './errors.js';
import type { ScheduleOptions, Scheduler } from './types.js';

export interface QueueSchedulerOptions {
  /** Tasks running at once. Default: the number of cores. */
  readonly maxParallelism?: number;
}

export class QueueScheduler implements Scheduler {
  readonly maxParallelism: number;
  readonly #queue: PQueue;
  #running = 0;
  #peak = 0;

  constructor(opts: QueueSchedulerOptions = {}) {
    const n = opts.maxParallelism ?? availableParallelism();
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`maxParallelism must be a positive integer, got ${n}`);
    this.maxParallelism = n;
    this.#queue = new PQueue({ concurrency: n });
  }

  /** Tasks running right now. */
  get running(): number {
    return this.#running;
  }

  /** Tasks waiting for a slot right now (for tests and bench). */
  get waiting(): number {
    return this.#queue.size;
  }

  /** The most tasks that ever ran at once (for tests and bench). */
  get peak(): number {
    return this.#peak;
  }

  async run<T>(fn: (signal: AbortSignal) => Promise<T>, opts: ScheduleOptions): Promise<T> {
    const { signal } = opts;
    if (signal.aborted) throw asCancelled(signal.reason);
    // p-queue's own signal also races a *running* task and frees its slot while the task still
    // runs; we want that only while queued, so the queue gets a signal we abort before start only.
    const whileQueued = new AbortController();
    let started = false;
    const onAbort = (): void => {
      if (!started) whileQueued.abort(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.#queue.add(
        async () => {
          started = true;
          signal.removeEventListener('abort', onAbort);
          if (signal.aborted) throw asCancelled(signal.reason);
          this.#running++;
          this.#peak = Math.max(this.#peak, this.#running);
          try {
            return await fn(signal);
          } finally {
            this.#running--;
          }
        },
        { signal: whileQueued.signal, priority: opts.priority ?? 0 },
      );
    } catch (e) {
      if (!started && signal.aborted) throw asCancelled(signal.reason);
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
