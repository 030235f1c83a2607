/**
 * Garbage collection after a build, off the build's critical path (issue 10: a no-op build
 * through the daemon answers its client before the collection, which walks the whole store and so
 * grows with it). The build's lease stays, unprotecting, until a collection that started after the
 * build ended has finished — exactly what awaiting it inline gave — so a process killed meanwhile
 * still leaves a dead lease for the next start to collect.
 *
 * A build also asks for the cache's GC policy (keep-storage budgets, src/cache/gc-policy.ts) to be
 * applied first: that check builds the result graph, which measures the size of every new result
 * (a walk of each new layer; a 100,000-file COPY layer's was ~0.4 s of a one-file edit, issue 14),
 * so it too runs after the client has its result. The build's lease keeps protecting its results
 * until the policy has run (`beforeCollect`), so the policy sees them pinned as it did inside the
 * build.
 *
 * Collections run one at a time: requests that arrive while one runs are all served by the single
 * next run (it starts after they asked, so it sees what they left; it applies the policy when any of
 * them asked for it), instead of one walk each when many builds end at once. `idle()` waits for the
 * runs in flight; the engine's close() awaits it.
 */
export interface CollectRequest {
  /** Apply the GC policy first (a build asks for it). Default false. */
  readonly policy?: boolean;
  /**
   * Called once the policy has been applied and before the collection proper (must not throw). A
   * build's lease stops protecting its new results here: while the policy runs they stay pinned,
   * as when it ran inside the build, and the collection then sees what the build left unreachable.
   */
  readonly beforeCollect?: () => void;
}

/** The two steps of a run; neither may throw (a failure is for the next run to retry). */
export interface CollectSteps {
  policy(): Promise<unknown>;
  collect(): Promise<unknown>;
}

export class BackgroundCollector {
  readonly #steps: CollectSteps;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  /** The requests the queued next run serves. */
  #queued: CollectRequest[] = [];

  constructor(steps: CollectSteps) {
    this.#steps = steps;
  }

  /** Settles when a collection that started after this call has finished. Never rejects. */
  request(req: CollectRequest = {}): Promise<void> {
    if (!this.#running) return this.#start([req]);
    this.#queued.push(req);
    this.#next ??= this.#running.then(() => {
      this.#next = undefined;
      const reqs = this.#queued;
      this.#queued = [];
      return this.#start(reqs);
    });
    return this.#next;
  }

  /** Settles when no collection is running or queued. */
  async idle(): Promise<void> {
    while (this.#running || this.#next) await (this.#next ?? this.#running);
  }

  #start(reqs: readonly CollectRequest[]): Promise<void> {
    const run = this.#run(reqs).finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  async #run(reqs: readonly CollectRequest[]): Promise<void> {
    if (reqs.some((r) => r.policy === true)) await this.#steps.policy().catch(() => undefined);
    for (const r of reqs) {
      try {
        r.beforeCollect?.();
      } catch {
        // Its owner's problem; the collection still runs for the others.
      }
    }
    await this.#steps.collect().catch(() => undefined);
  }
}
