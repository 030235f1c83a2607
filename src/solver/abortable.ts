/** Waiting on shared work without owning it: stop waiting when *our* signal aborts. */
import { asCancelled } from './errors.js';

export function noop(): void {}

/**
 * Resolves like `p`, or rejects with a CancelledError as soon as `signal` aborts. The work behind `p`
 * goes on (it may be shared); if it later produces a value nobody took, `onLate` disposes of it.
 */
export function abortable<T>(p: Promise<T>, signal: AbortSignal, onLate?: (value: T) => void): Promise<T> {
  if (signal.aborted) {
    p.then((v) => onLate?.(v), noop);
    return Promise.reject(asCancelled(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const onAbort = (): void => {
      if (done) return;
      done = true;
      reject(asCancelled(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        if (done) {
          onLate?.(v);
          return;
        }
        done = true;
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (done) return;
        done = true;
        reject(e);
      },
    );
  });
}
