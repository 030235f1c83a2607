/**
 * `--max-builds-per-client`: how many builds one principal (a token's name, a certificate's
 * subject, "local") may run at once, so one CI runner cannot starve the others. A build takes a
 * slot before it starts and gives it back when it ends; over the limit the call fails with
 * RESOURCE_EXHAUSTED (TOO_MANY_BUILDS) instead of queueing behind a client's own backlog.
 */
import { DaemonErrors } from './errors.js';

export class BuildSlots {
  private readonly running = new Map<string, number>();

  /** `limit` 0 means unlimited. */
  constructor(private readonly limit: number) {}

  /** Takes a slot for `client`; call the returned function (once) when the build ends. */
  acquire(client: string): () => void {
    const n = this.running.get(client) ?? 0;
    if (this.limit > 0 && n >= this.limit) throw DaemonErrors.tooManyBuilds(client, this.limit);
    this.running.set(client, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.running.get(client) ?? 1) - 1;
      if (left <= 0) this.running.delete(client);
      else this.running.set(client, left);
    };
  }

  /** Builds `client` runs now. */
  count(client: string): number {
    return this.running.get(client) ?? 0;
  }
}
