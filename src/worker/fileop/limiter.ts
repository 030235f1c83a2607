/**
 * A counting semaphore for file copies: enough copies in flight to keep the disk busy, few enough
 * that a directory of 100k files does not open 100k descriptors at once.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {
    if (!(max >= 1)) throw new RangeError(`limiter size must be at least 1, got ${max}`);
  }

  /** Runs `fn` when a slot is free and returns its result. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
