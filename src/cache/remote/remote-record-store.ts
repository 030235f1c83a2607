/**
 * The record store of a build that imports cache (`--cache-from`): the local records first, then
 * the imported ones. An imported hit is handed to the solver as a record whose result id is
 * `remote:<n>`; the engine's loader turns that into a snapshot chain (downloading only the blobs
 * the data root lacks) when — and only when — the solver needs the result. Saves go to the local
 * store. One instance per build; it never writes to the imported caches.
 */
import type { CacheRecord, CacheRecordStore, LeaseOptions, SaveRecordOptions, StepLease } from '../../solver/cache-types.js';
import { remoteRecords } from './cache-config.js';
import type { ImportedCache, RemoteRecord } from './types.js';

const REMOTE_PREFIX = 'remote:';

export function isRemoteResultId(id: string): boolean {
  return id.startsWith(REMOTE_PREFIX);
}

export interface RemoteRecordStoreOptions {
  /** The data root's records. */
  readonly local: CacheRecordStore;
  /** Whether a local record's result (snapshot) still exists; an imported record wins when not. */
  readonly exists: (resultId: string) => Promise<boolean>;
  /** Imported caches, in `--cache-from` order (the first one holding a key wins). */
  readonly caches: readonly ImportedCache[];
  /** Clock (ms since epoch). Default Date.now. */
  readonly now?: () => number;
}

export class RemoteRecordStore implements CacheRecordStore {
  readonly #local: CacheRecordStore;
  readonly #exists: (resultId: string) => Promise<boolean>;
  readonly #now: () => number;
  readonly #index = new Map<string, RemoteRecord>();
  readonly #byKey = new Map<string, RemoteRecord[]>();
  /** Records handed out, by the n of `remote:<n>`. */
  readonly #handed: RemoteRecord[] = [];
  readonly #ids = new Map<RemoteRecord, string>();
  readonly lease?: (key: string, opts: LeaseOptions) => Promise<StepLease>;

  constructor(opts: RemoteRecordStoreOptions) {
    this.#local = opts.local;
    this.#exists = opts.exists;
    this.#now = opts.now ?? Date.now;
    // The local store's step leases: builds importing cache still compute a shared step once.
    const local = opts.local;
    const lease = local.lease;
    if (lease) this.lease = (key, o) => lease.call(local, key, o);
    for (const c of opts.caches) {
      for (const r of remoteRecords(c)) {
        const s = slot(r.entry.key, r.entry.output);
        if (this.#index.has(s)) continue;
        this.#index.set(s, r);
        this.#byKey.set(r.entry.key, [...(this.#byKey.get(r.entry.key) ?? []), r]);
      }
    }
  }

  /** Imported records (with a rebuildable chain) in all caches. */
  get size(): number {
    return this.#index.size;
  }

  async lookup(key: string, output: number): Promise<CacheRecord | undefined> {
    const local = await this.#local.lookup(key, output);
    const remote = this.#index.get(slot(key, output));
    if (!remote) return local;
    if (local && (local.resultId === '' || (await this.#exists(local.resultId)))) return local;
    const now = this.#now();
    return {
      key,
      output,
      resultId: remote.chain.length === 0 ? '' : this.#idOf(remote),
      recordType: remote.entry.recordType,
      description: remote.entry.description,
      createdAt: now,
      lastUsedAt: now,
      useCount: 1,
      size: undefined,
    };
  }

  save(opts: SaveRecordOptions): Promise<CacheRecord> {
    return this.#local.save(opts);
  }


  async invalidate(key: string, output: number): Promise<void> {
    // A result that failed to load from here is not offered again in this build.
    this.#index.delete(slot(key, output));
    await this.#local.invalidate(key, output);
  }

  /** The imported record behind a `remote:<n>` result id. */
  remote(resultId: string): RemoteRecord | undefined {
    if (!isRemoteResultId(resultId)) return undefined;
    return this.#handed[Number(resultId.slice(REMOTE_PREFIX.length))];
  }

  /** The imported record for (key, output), whether or not it was used. */
  find(key: string, output: number): RemoteRecord | undefined {
    return this.#index.get(slot(key, output));
  }

  /** Every imported record (any output) under a key still on offer. */
  forKey(key: string): RemoteRecord[] {
    return (this.#byKey.get(key) ?? []).filter((r) => this.#index.get(slot(r.entry.key, r.entry.output)) === r);
  }

  #idOf(r: RemoteRecord): string {
    let id = this.#ids.get(r);
    if (id === undefined) {
      id = `${REMOTE_PREFIX}${this.#handed.length}`;
      this.#handed.push(r);
      this.#ids.set(r, id);
    }
    return id;
  }
}

function slot(key: string, output: number): string {
  return `${key}\u0000${output}`;
}
