/**
 * Synchronisation for tests. Tests wait on conditions, never on fixed sleeps: a sleep is too short
 * on a busy machine (flaky) and too long on an idle one. `waitFor` polls a condition with a
 * deadline and fails naming what it waited for; `deferred` is a latch for ordering events
 * explicitly (a fake op waits on it, the test opens it).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  /** What is awaited, for the error message: "the mount to appear". */
  readonly what: string;
  /** Give up after this long. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Pause between polls. Default 5 ms. */
  readonly intervalMs?: number;
}

/** Resolves once `cond()` is true; throws `timed out after N ms waiting for WHAT` otherwise. */
export async function waitFor(cond: () => boolean | Promise<boolean>, opts: WaitForOptions): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}`);
    await sleep(opts.intervalMs ?? 5);
  }
}

/** A promise and the function that resolves it. */
export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
