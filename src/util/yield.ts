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
    if (this.due()) await this.pause();
  }

  /**
   * `tick()` in two halves for hot loops, `if (pacer.due()) await pacer.pause();`: an await per
   * item (a promise and a microtask each, 30,000 per 10,000-instruction conversion) costs more
   * than the work of a small instruction.
   */
  due(): boolean {
    return ++this.#count % this.every === 0;
  }

  /** Yields to the event loop, then throws if the signal aborted. */
  async pause(): Promise<void> {
    await yieldToEventLoop();
    throwIfAborted(this.signal);
  }
}
