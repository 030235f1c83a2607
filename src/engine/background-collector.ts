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
 * so it too runs after the client has its result.
 *
 * Collections run one at a time: requests that arrive while one runs are all served by the single
 * next run (it starts after they asked, so it sees what they left; it applies the policy when any of
 * them asked for it), instead of one walk each when many builds end at once. `idle()` waits for the
 * runs in flight; the engine's close() awaits it.
 */
export interface CollectRequest {
  /** Apply the GC policy before collecting (after a build). Default false. */
  readonly policy?: boolean;
}

export class BackgroundCollector {
  readonly #collect: (req: Required<CollectRequest>) => Promise<unknown>;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  /** Whether a request served by the queued next run asked for the policy. */
  #nextPolicy = false;

  /** `collect` must not throw (a failure is for the next collection to retry). */
  constructor(collect: (req: Required<CollectRequest>) => Promise<unknown>) {
    this.#collect = collect;
  }

  /** Settles when a collection that started after this call has finished. Never rejects. */
  request(req: CollectRequest = {}): Promise<void> {
    const policy = req.policy === true;
    if (!this.#running) return this.#start(policy);
    this.#nextPolicy ||= policy;
    this.#next ??= this.#running.then(() => {
      this.#next = undefined;
      const next = this.#nextPolicy;
      this.#nextPolicy = false;
      return this.#start(next);
    });
    return this.#next;
  }

  /** Settles when no collection is running or queued. */
  async idle(): Promise<void> {
    while (this.#running || this.#next) await (this.#next ?? this.#running);
  }

  #start(policy: boolean): Promise<void> {
    const run = this.#collect({ policy }).then(() => undefined, () => undefined).finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    this.#running = run;
    return run;
  }
}
