/**
 * The calls running now, for graceful shutdown: each call holds an AbortController its handler
 * sees as `ctx.signal`. Draining refuses new calls (SHUTTING_DOWN); `idle()` resolves when the
 * last running call has ended; `cancelAll` aborts them all (the bounded wait ran out, or a second
 * SIGTERM came).
 */
import { DaemonErrors } from './errors.js';

export interface TrackedCall {
  readonly signal: AbortSignal;
  /** Aborts this call's handler. */
  abort(reason: unknown): void;
  /** Marks the call finished; idempotent. */
  end(): void;
}

export class InFlightCalls {
  private readonly calls = new Set<AbortController>();
  private readonly idleWaiters: (() => void)[] = [];
  private draining = false;

  get size(): number {
    return this.calls.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Registers a new call; throws SHUTTING_DOWN once draining. */
  begin(): TrackedCall {
    if (this.draining) throw DaemonErrors.shuttingDown();
    const controller = new AbortController();
    this.calls.add(controller);
    let ended = false;
    return {
      signal: controller.signal,
      abort: (reason) => controller.abort(reason),
      end: () => {
        if (ended) return;
        ended = true;
        this.calls.delete(controller);
        if (this.calls.size === 0) for (const w of this.idleWaiters.splice(0)) w();
      },
    };
  }

  /** Refuses new calls from now on. */
  drain(): void {
    this.draining = true;
  }

  /** Resolves when no call is running. */
  idle(): Promise<void> {
    if (this.calls.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Aborts every running call's handler with `reason`. */
  cancelAll(reason: unknown): void {
    for (const c of this.calls) c.abort(reason);
  }
}
