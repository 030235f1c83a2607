/**
 * CacheStorage: the cache layer of one data root, opened once per engine (CLI process or daemon).
 * It owns the metadata database connection and hands out the stores built on it; the snapshot
 * inventory is injected (the worker's snapshotter, through inventoryFromSnapshotter). close() when
 * the engine stops.
 */
import { throwIfAborted } from '../util/errors.js';
import { SqliteCacheStore } from './cache-record-store.js';
import type { CacheParts } from './cache-parts.js';
import { BuildHistory } from './build-history.js';
import { checkConsistency, cleanupOrphans, repairConsistency } from './consistency-check.js';
import { ContentStore } from './content-store.js';
import type { DataRootPaths } from './data-root.js';
import { dataRootPaths, ensureCacheDirs } from './data-root.js';
import { DbLocks } from './db-lock.js';
import { StepLeases } from './step-leases.js';
import { collectGarbage, type GarbageReport } from './garbage.js';
import { LeaseStore } from './lease-store.js';
import { diskUsage } from './disk-usage.js';
import { defaultGcBudget, gcPolicyFor, maybeGc } from './gc-policy.js';
import { ImageStore } from './image-store.js';
import { LayerBlobCache } from './layer-blob-cache.js';
import { MetadataDb } from './metadata-db.js';
import { prune } from './prune.js';
import { RefStore } from './ref-store.js';
import { SqliteStatCache } from './stat-cache.js';
import type {
  CheckOptions, CheckProblem, CheckReport, DiskUsage, DuOptions, GcRule, PruneOptions, PruneResult, RepairReport, SignalOptions, SnapshotInventory,
} from './types.js';

export interface OpenCacheStorageOptions extends SignalOptions {
  /** The data root (ROOT). */
  readonly root: string;
  readonly inventory: SnapshotInventory;
  /** GC rules for maybeGc(). Default: gcPolicyFor(10% of the root's filesystem). */
  readonly gcPolicy?: readonly GcRule[];
  /** How long a DB writer waits for another process, in ms. Default 15000. */
  readonly busyTimeoutMs?: number;
  /** Clock (ms since epoch). Default Date.now. */
  readonly now?: () => number;
}

export class CacheStorage {
  readonly paths: DataRootPaths;
  readonly db: MetadataDb;
  readonly content: ContentStore;
  /** The solver's CacheRecordStore. */
  readonly records: SqliteCacheStore;
  readonly refs: RefStore;
  readonly statCache: SqliteStatCache;
  readonly layerBlobs: LayerBlobCache;
  readonly images: ImageStore;
  readonly history: BuildHistory;
  readonly locks: DbLocks;
  /** Operation leases: every operation that writes holds one (see lease-store.ts). */
  readonly leases: LeaseStore;
  readonly inventory: SnapshotInventory;
  readonly gcPolicy: readonly GcRule[];
  private readonly parts: CacheParts;

  private constructor(init: { paths: DataRootPaths; db: MetadataDb; content: ContentStore; inventory: SnapshotInventory; gcPolicy: readonly GcRule[]; now: () => number }) {
    const { db, now } = init;
    this.paths = init.paths;
    this.db = db;
    this.content = init.content;
    this.inventory = init.inventory;
    this.gcPolicy = init.gcPolicy;
    this.locks = new DbLocks({ db });
    this.records = new SqliteCacheStore({ db, inventory: init.inventory, now, leases: new StepLeases(this.locks) });
    this.refs = new RefStore({ db, now });
    this.statCache = new SqliteStatCache({ db });
    this.layerBlobs = new LayerBlobCache({ db, now });
    this.images = new ImageStore({ db, now });
    this.history = new BuildHistory({ db });
    this.leases = new LeaseStore({ db, clockDir: this.paths.tmp });
    this.parts = {
      paths: this.paths, db, content: this.content, records: this.records, refs: this.refs, layerBlobs: this.layerBlobs,
      images: this.images, locks: this.locks, leases: this.leases, inventory: this.inventory, now,
    };
  }

  static async open(opts: OpenCacheStorageOptions): Promise<CacheStorage> {
    throwIfAborted(opts.signal);
    const paths = dataRootPaths(opts.root);
    await ensureCacheDirs(paths);
    const content = await ContentStore.open({ paths, ...(opts.signal ? { signal: opts.signal } : {}) });
    const gcPolicy = opts.gcPolicy ?? gcPolicyFor(await defaultGcBudget(opts.root));
    const db = MetadataDb.open({ path: paths.metadataDb, ...(opts.busyTimeoutMs !== undefined ? { busyTimeoutMs: opts.busyTimeoutMs } : {}) });
    return new CacheStorage({ paths, db, content, inventory: opts.inventory, gcPolicy, now: opts.now ?? Date.now });
  }

  du(opts: DuOptions = {}): Promise<DiskUsage> {
    return diskUsage(this.parts, opts);
  }

  prune(opts: PruneOptions = {}): Promise<PruneResult> {
    return prune(this.parts, opts);
  }

  /** Runs the GC policy if the cache is over a limit; the solver calls this after each build. */
  maybeGc(opts: SignalOptions = {}): Promise<PruneResult | undefined> {
    return maybeGc(this.parts, { ...opts, policy: this.gcPolicy });
  }

  /**
   * Removes everything nothing needs any more (reachability.ts): snapshots no record or ref holds,
   * blobs no image or kept snapshot reaches, rows of snapshots that are gone. What running
   * operations made since they began is left alone. Operations call it when they end.
   */
  async collectGarbage(opts: SignalOptions = {}): Promise<GarbageReport> {
    const report = await collectGarbage(this.parts, opts);
    // The lookups' pending uses (the walk reads only the records' result ids) are written, and the WAL
    // checkpointed when due, here after the operation instead of in a commit that crosses SQLite's
    // checkpoint limit during it (metadata-db.ts). Best effort: the WAL keeps everything anyway.
    try {
      this.records.flushUsage();
      this.db.checkpointIfDue();
    } catch {
      // A busy or closed database: the next collection checkpoints.
    }
    return report;
  }

  check(opts: CheckOptions = {}): Promise<CheckReport> {
    return checkConsistency(this.parts, opts);
  }

  repair(opts: CheckOptions = {}): Promise<RepairReport> {
    return repairConsistency(this.parts, opts);
  }

  /**
   * Removes what dead processes left behind (ingest files, ROOT/tmp entries named by
   * makeProcessTempDir, refs, locks, interrupted prunes, and — when an operation died — the
   * garbage it left). Safe while other processes run; call it when an engine starts.
   */
  cleanupOrphans(opts: SignalOptions = {}): Promise<CheckProblem[]> {
    return cleanupOrphans(this.parts, opts);
  }

  close(): void {
    try {
      this.records.flushUsage();
    } catch {
      // Lost uses only change the order a later prune picks records in (cache-record-store.ts).
    }
    this.db.close();
  }
}
