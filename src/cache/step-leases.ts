/**
 * Step leases: one computation per cache key at a time among every process (and every build of
 * one process) sharing a data root. Ten concurrent `tsbuild build`s of Dockerfiles that share a
 * RUN used to run it ten times; with a lease the first runs it and the others wait, then find its
 * record and count the step as cached (the solver's side is in src/solver/shared-vertex.ts).
 *
 * A lease is a row of the `locks` table (`step:<key>`, owned by pid + start time), so a holder
 * that dies (kill -9) frees it at once: the next poll sees a dead owner and takes over. Waiters in
 * the holder's own process wait on a promise; others poll the row, backing off to 250 ms.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LeaseOptions, StepLease } from '../solver/cache-types.js';
import { CancelledError, throwIfAborted } from '../util/errors.js';
import type { DbLocks } from './db-lock.js';

const MAX_POLL_MS = 250;

export class StepLeases {
  readonly #locks: DbLocks;
  /** Leases this process holds: waiters here need not poll the database. */
  readonly #held = new Map<string, { readonly done: Promise<void>; readonly holder: string | undefined }>();

  constructor(locks: DbLocks) {
    this.#locks = locks;
  }

  async acquire(key: string, opts: LeaseOptions): Promise<StepLease> {
    const name = `step:${key}`;
    let waited = false;
    let delay = 10;
    const wait = (holder: string): void => {
      if (waited) return;
      waited = true;
      opts.onWait?.(holder);
    };
    for (;;) {
      throwIfAborted(opts.signal);
      const local = this.#held.get(name);
      if (local !== undefined) {
        wait(local.holder ?? 'another build in this process');
        await Promise.race([local.done, aborted(opts.signal)]);
        continue;
      }
      const handle = this.#locks.tryAcquire(name);
      if (handle !== undefined) {
        let done!: () => void;
        this.#held.set(name, { done: new Promise<void>((resolve) => (done = resolve)), holder: opts.holder });
        let released = false;
        return {
          waited,
          release: async () => {
            if (released) return;
            released = true;
            try {
              handle.release();
            } finally {
              this.#held.delete(name);
              done();
            }
          },
        };
      }
      const owner = this.#locks.holder(name);
      wait(owner ? `build process ${owner.pid}` : 'another build');
      await sleep(delay, undefined, { signal: opts.signal }).catch(() => undefined);
      delay = Math.min(delay * 2, MAX_POLL_MS);
    }
  }
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(new CancelledError(signal.reason));
    else signal.addEventListener('abort', () => reject(new CancelledError(signal.reason)), { once: true });
  });
}
