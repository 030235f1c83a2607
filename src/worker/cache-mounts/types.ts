/**
 * RUN --mount=type=cache directories: persistent, keyed by id, never part of a layer. The lead will
 * move these interfaces into `src/worker/types.ts`.
 *
 * Lifetimes: `acquire` returns a lease; the directory it names stays valid (and, for `private`
 * and `locked`, exclusively the holder's) until `release()`. Every acquire must be paired with a
 * release in try/finally. Leases are held with kernel file locks, so they coordinate across
 * processes sharing one data root, and a crashed holder's leases vanish with it.
 */

/**
 * BuildKit's sharing modes. `shared`: concurrent users use the same directory. `private`: a second
 * concurrent user gets another directory. `locked`: a second user waits until the first releases.
 */
export type CacheSharing = 'shared' | 'private' | 'locked';

/** Where a new cache directory's initial content comes from (`from=`/`source=`). */
export interface CacheSeed {
  /** Host directory copied (owners, modes, links preserved) into a cache directory when it is created. */
  readonly from: string;
  /**
   * Stable identity of that content (e.g. the snapshot or its content digest). Part of the cache's
   * key: a different seed is a different cache, as in BuildKit.
   */
  readonly key: string;
}

export interface CacheMountAcquireOptions {
  /** The cache id; use `cacheMountId(id, target)` for Dockerfile defaults. */
  readonly id: string;
  readonly sharing: CacheSharing;
  /** Mode of a newly created directory. Default 0o755 (unseeded) or the seed's. */
  readonly mode?: number;
  /** Owner of a newly created directory. Default 0 (unseeded) or the seed's. */
  readonly uid?: number;
  readonly gid?: number;
  readonly seed?: CacheSeed;
  /** Aborts a wait (locked mode, or a concurrent removal) and seeding. */
  readonly signal: AbortSignal;
}

/** A cache directory in use. */
export interface CacheMountLease {
  readonly id: string;
  /** Host path to bind at the mount target (ExecMount `{ kind: 'bind', writes: 'persist' }`). */
  readonly path: string;
  release(): Promise<void>;
}

/** One cache (an id, plus its seed key) as `du` shows it. */
export interface CacheMountInfo {
  readonly id: string;
  /** Directory name under ROOT/cachemounts. */
  readonly key: string;
  readonly seedKey: string | undefined;
  /** Directories made for it (more than one after concurrent `private` use). */
  readonly instances: number;
  /** Disk usage in bytes (allocated blocks, hard links counted once). */
  readonly sizeBytes: number;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly inUse: boolean;
}

export interface CacheMountPruneOptions {
  readonly signal: AbortSignal;
  /** Which unused caches to remove. Default: all. */
  readonly filter?: (info: CacheMountInfo) => boolean;
}

export interface CacheMountManager {
  acquire(opts: CacheMountAcquireOptions): Promise<CacheMountLease>;
  list(opts: { readonly signal: AbortSignal }): Promise<CacheMountInfo[]>;
  /**
   * Removes every cache with this id. Fails with CACHE_MOUNT_IN_USE when one is leased; returns
   * false when there was none.
   */
  remove(id: string, opts: { readonly signal: AbortSignal }): Promise<boolean>;
  /** Removes unused caches matching the filter; caches in use are skipped. */
  prune(opts: CacheMountPruneOptions): Promise<CacheMountInfo[]>;
}
