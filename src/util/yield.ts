/**
 * Long synchronous work (parsing or converting a Dockerfile of 100,000s of lines) must still
 * answer Ctrl-C and SIGTERM: signal handlers, like every callback, only run when the event loop
 * turns. `Pacer` lets loops give it a turn every so many items and then honour the abort signal.
 */
import { throwIfAborted } from './errors.js';

/** Resolves on the next turn of the event loop, after pending I/O and signal callbacks. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class Pacer {
  #count = 0;

  /** `every`: items between turns (default 2,000, ~10–50 ms of parsing or converting). */
  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly every = 2000,
  ) {}

  /** Call once per item; every `every` items, yields and throws if the signal aborted. */
  async tick(): Promise<void> {
    if (++this.#count % this.every !== 0) return;
    await yieldToEventLoop();
    throwIfAborted(this.signal);
  }
}
