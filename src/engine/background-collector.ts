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
 *
 * Paced (the daemon): a run's walks grow with the store (~0.1 s at 1,500 snapshots and blobs), and
 * they share the event loop with the builds, so under a steady stream of builds back-to-back runs
 * would take a growing share of it. With `pacing.ratio` r, the next run starts no sooner than r
 * times the last run's duration after that run ended: collections take at most 1/(1+r) of the
 * time, whatever the store's size (BuildKit throttles its own collections to one per second, its
 * GC policy to one per minute). Requests in the pause wait for the run after it; idle() ends the
 * pause at once.
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

export interface CollectorPacing {
  /** The pause after a run, as a multiple of its duration. */
  readonly ratio: number;
  /** The clock, ms (tests). Default performance.now. */
  readonly now?: () => number;
}

export class BackgroundCollector {
  readonly #steps: CollectSteps;
  readonly #ratio: number;
  readonly #now: () => number;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  /** The requests the queued next run serves. */
  #queued: CollectRequest[] = [];
  /** When the last run ended, and the pause it asks for (ms of #now). */
  #pauseUntil = 0;
  /** Ends the pause under way now (idle()). */
  #wake: (() => void) | undefined;
  /** idle() calls waiting: no pause while any does. */
  #hurry = 0;

  constructor(steps: CollectSteps, pacing?: CollectorPacing) {
    this.#steps = steps;
    this.#ratio = pacing?.ratio ?? 0;
    this.#now = pacing?.now ?? (() => performance.now());
  }

  /** Settles when a collection that started after this call has finished. Never rejects. */
  request(req: CollectRequest = {}): Promise<void> {
    if (!this.#running && !this.#next && this.#pauseLeft() <= 0) return this.#start([req]);
    this.#queued.push(req);
    this.#next ??= (this.#running ?? Promise.resolve()).then(async () => {
      await this.#pause();
      this.#next = undefined;
      const reqs = this.#queued;
      this.#queued = [];
      return this.#start(reqs);
    });
    return this.#next;
  }

  /** Settles when no collection is running or queued; a pause before the queued run ends now. */
  async idle(): Promise<void> {
    this.#hurry++;
    try {
      this.#wake?.();
      while (this.#running || this.#next) await (this.#next ?? this.#running);
    } finally {
      this.#hurry--;
    }
  }

  #pauseLeft(): number {
    return this.#hurry > 0 ? 0 : this.#pauseUntil - this.#now();
  }

  async #pause(): Promise<void> {
    const ms = this.#pauseLeft();
    if (ms <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.#wake?.(), ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }

  #start(reqs: readonly CollectRequest[]): Promise<void> {
    const began = this.#now();
    const run = this.#run(reqs).finally(() => {
      const ended = this.#now();
      this.#pauseUntil = ended + this.#ratio * (ended - began);
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
