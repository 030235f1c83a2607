/**
 * Work an operation goes on doing after it has answered (issue 10: a daemon's build sends its
 * result before it writes its history record and checks the GC policy). Whoever reads what that
 * work writes waits for it first (`settled()`): the history's readers, the next build's miss
 * explanations, the engine's close().
 */
export class PendingWork {
  readonly #running = new Set<Promise<void>>();

  /** Starts `work` and tracks it until it settles. The promise returned never rejects. */
  run(work: () => Promise<unknown>): Promise<void> {
    const p: Promise<void> = Promise.resolve()
      .then(work)
      .then(() => undefined, () => undefined)
      .finally(() => this.#running.delete(p));
    this.#running.add(p);
    return p;
  }

  /** Settles when no work is running, including work started while waiting. Never rejects. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }
}
