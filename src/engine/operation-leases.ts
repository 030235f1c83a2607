/**
 * Every engine operation runs under a lease (src/cache/lease-store.ts): while it runs, garbage
 * collection elsewhere leaves what it makes alone; if its process dies, the next start collects
 * what it left. When it ends, whatever it made unreachable — a cache result that lost a race or was
 * replaced by --no-cache, the image a tag moved away from, the blobs of a failed load or pull — is
 * collected: before the operation returns (`inline`), or after it (`background`, the daemon), one
 * collection at a time (background-collector.ts). A build also has the GC policy applied first,
 * when there are rules, while its lease still protects what it made.
 */
import type { CacheStorage } from '../cache/cache-storage.js';
import { BackgroundCollector, type CollectorPacing } from './background-collector.js';

export interface OperationOptions {
  /** Whether the lease protects what the operation makes from collections elsewhere. */
  readonly protects: boolean;
  readonly signal: AbortSignal;
  /** When the collection after it runs; false: none. Default `inline`. */
  readonly collect?: 'inline' | 'background' | false;
  /** Apply the GC policy first (a build). Default false. */
  readonly policy?: boolean;
  /** A background collection starts once this settles (or drain() begins). */
  readonly after?: Promise<unknown> | undefined;
}

export class OperationLeases {
  readonly #storage: CacheStorage;
  readonly #collector: BackgroundCollector;
  /** Background collections waiting for their operation's result to be delivered (`after`). */
  readonly #deferred = new Set<Promise<void>>();
  /** Settles when drain() begins: a deferred collection then starts without waiting longer. */
  readonly #draining: Promise<void>;
  #startDraining: () => void = () => undefined;

  /** `pacing`: the collections' pause (background-collector.ts); none by default. */
  constructor(storage: CacheStorage, pacing?: CollectorPacing) {
    this.#storage = storage;
    this.#draining = new Promise<void>((resolve) => (this.#startDraining = resolve));
    this.#collector = new BackgroundCollector({
      policy: () => storage.maybeGc().catch(() => undefined),
      collect: () => storage.collectGarbage().catch(() => undefined),
    }, pacing);
  }

  /** Runs `fn` as the operation `label` under its lease, then its collection as `o` asks. */
  async run<T>(label: string, o: OperationOptions, fn: () => Promise<T>): Promise<T> {
    const storage = this.#storage;
    const lease = await storage.leases.begin(label, { protects: o.protects, signal: o.signal });
    let background = false;
    try {
      return await fn();
    } finally {
      try {
        // Not cancellable: a cancelled operation's leftovers are exactly what this is for. A
        // failure here must not fail an operation that succeeded: the next collection retries.
        // The lease stays (unprotecting) until the collection is done: a process killed during
        // it leaves a dead lease, so the next start collects instead. With the GC policy applied
        // first (a build), it protects what the operation made until the policy has run.
        if (o.collect !== false) {
          // No GC rules (tsbuildd without --gc-keep-storage): nothing to protect the results from.
          const policy = o.policy === true && storage.gcPolicy.length > 0;
          if (!policy) lease.stopProtecting();
          const request = (): Promise<void> => this.#collector.request(policy ? { policy, beforeCollect: () => lease.stopProtecting() } : {});
          const collected = o.collect === 'background' && o.after !== undefined ? this.#defer(o.after, request) : request();
          if (o.collect === 'background') {
            background = true;
            // A lease that fails to go stays dead-looking for the next start to collect.
            void collected.then(() => lease.release()).catch(() => undefined);
          } else {
            await collected;
          }
        }
      } finally {
        if (!background) lease.release();
      }
    }
  }

  /** Starts the deferred collections now and waits until no collection runs or waits. */
  async drain(): Promise<void> {
    this.#startDraining();
    while (this.#deferred.size > 0) await Promise.allSettled([...this.#deferred]);
    await this.#collector.idle();
  }

  /** `request` once `after` has settled or drain() began; drain() waits for it. */
  #defer(after: Promise<unknown>, request: () => Promise<void>): Promise<void> {
    const run = Promise.race([after.then(() => undefined, () => undefined), this.#draining]).then(request);
    this.#deferred.add(run);
    void run.finally(() => this.#deferred.delete(run));
    return run;
  }
}
