/**
 * What the solver needs from persistent cache storage. The solver is generic: it stores and finds
 * opaque result ids (for tsbuild's worker: committed overlay2 snapshot ids) under cache keys.
 * Implemented in src/cache (SQLite); the solver never knows how.
 */

/** The kind of a cache record, for du/prune filters (BuildKit's record types). */
export type RecordType = 'regular' | 'source.local' | 'source.image' | 'source.http' | 'source.git' | 'exec.cachemount' | 'internal' | 'frontend';

/** One persisted cache record: a cache key and the result it produced. */
export interface CacheRecord {
  /** The persistent cache key ("sha256:<hex>"). */
  readonly key: string;
  /** Output index of the op this record is for (ops may have several outputs). */
  readonly output: number;
  /** Opaque id of the stored result (a committed snapshot id), or "" for results with no filesystem. */
  readonly resultId: string;
  readonly recordType: RecordType;
  /** Human description (the vertex name), for du and miss explanations. */
  readonly description: string;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly useCount: number;
  /** Bytes of the result's own data (its layer), when known. */
  readonly size: number | undefined;
}

export interface SaveRecordOptions {
  readonly key: string;
  readonly output: number;
  readonly resultId: string;
  readonly recordType: RecordType;
  readonly description: string;
  readonly size?: number;
  /** Cache keys of the inputs (links), for cache export and miss explanations. */
  readonly inputKeys?: readonly string[];
  /**
   * Replace an existing record for (key, output) even if its result still exists: the step was
   * re-executed because of ignore-cache (`--no-cache`, `--no-cache-filter`). Default false.
   */
  readonly replace?: boolean;
}

/**
 * Persistent key → result storage. Safe for several processes on one data root. Every method may
 * be called concurrently.
 */
export interface CacheRecordStore {
  /** The record for (key, output), or undefined. A hit also updates lastUsedAt and useCount. */
  lookup(key: string, output: number): Promise<CacheRecord | undefined>;
  /**
   * Stores a record; an existing record for (key, output) is replaced only if its result is gone or
   * `opts.replace` is set.
   */
  save(opts: SaveRecordOptions): Promise<CacheRecord>;
  /** Removes records whose result no longer exists (called when a lookup's result fails to load). */
  invalidate(key: string, output: number): Promise<void>;
  /**
   * Exclusive right to compute `key`, across the processes (and builds) sharing the store, so that
   * identical steps of concurrent builds run once: resolves when no one else holds it, after
   * waiting (calling `onWait` once) while another live holder does. A holder that dies frees it.
   * The solver takes it only after the step's inputs are ready and holds it while the step runs
   * and its records are saved; since a key's inputs are parts of the key, holders only ever wait
   * for keys below theirs, and leases cannot deadlock. Optional: stores without it never wait.
   */
  lease?(key: string, opts: LeaseOptions): Promise<StepLease>;
}

export interface LeaseOptions {
  readonly signal: AbortSignal;
  /** Called once if the lease is held elsewhere and the caller starts waiting for it, with the holder's name. */
  readonly onWait?: (holder: string) => void;
  /** How waiters in this process name the caller while it holds the lease ("build REF"). */
  readonly holder?: string;
}

/** A held step lease. `release()` is idempotent. */
export interface StepLease {
  /** True when the caller had to wait for another holder (which may have saved records since). */
  readonly waited: boolean;
  release(): Promise<void>;
}
