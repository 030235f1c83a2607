/**
 * Garbage collection after a build, off the build's critical path (issue 10: a no-op build
 * through the daemon answers its client before the collection, which walks the whole store and so
 * grows with it). The build's lease stays, unprotecting, until a collection that started after the
 * build ended has finished — exactly what awaiting it inline gave — so a process killed meanwhile
 * still leaves a dead lease for the next start to collect.
 *
 * Collections run one at a time: requests that arrive while one runs are all served by the single
 * next run (it starts after they asked, so it sees what they left), instead of one walk each when
 * many builds end at once. `idle()` waits for the runs in flight; the engine's close() awaits it.
 */
export class BackgroundCollector {
  readonly #collect: () => Promise<unknown>;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  /** `collect` must not throw (a failure is for the next collection to retry). */
  constructor(collect: () => Promise<unknown>) {
    this.#collect = collect;
  }

  /** Settles when a collection that started after this call has finished. Never rejects. */
  request(): Promise<void> {
    if (!this.#running) return this.#start();
    this.#next ??= this.#running.then(() => {
      this.#next = undefined;
      return this.#start();
    });
    return this.#next;
  }

  /** Settles when no collection is running or queued. */
  async idle(): Promise<void> {
    while (this.#running || this.#next) await (this.#next ?? this.#running);
  }

  #start(): Promise<void> {
    const run = this.#collect().then(() => undefined, () => undefined).finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    this.#running = run;
    return run;
  }
}
