/**
 * Backoff for transient registry failures (5xx, 429, connection resets): exponential with jitter,
 * honouring a server's Retry-After up to a cap, and cancellable.
 */
import { CancelledError } from '../util/errors.js';

export interface RetryPolicy {
  /** Attempts after the first. */
  readonly retries: number;
  /** Delay before the first retry; doubles each time. */
  readonly baseMs: number;
}

const MAX_DELAY_MS = 30_000;

/** HTTP statuses that are worth another attempt. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/** Delay before retry number `attempt` (0-based), from Retry-After when the server sent one. */
export function backoffMs(policy: RetryPolicy, attempt: number, retryAfter?: string | undefined): number {
  if (retryAfter !== undefined) {
    const secs = Number(retryAfter);
    if (Number.isFinite(secs) && secs >= 0) return Math.min(secs * 1000, MAX_DELAY_MS);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.min(Math.max(0, at - Date.now()), MAX_DELAY_MS);
  }
  // Jitter spreads parallel layer retries so they do not hit a recovering registry together.
  const exp = policy.baseMs * 2 ** attempt;
  return Math.min(exp * (0.5 + Math.random()), MAX_DELAY_MS);
}

/** Resolves after `ms`, or rejects with CancelledError when the signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new CancelledError(signal.reason));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new CancelledError(signal?.reason));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
