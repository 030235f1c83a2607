/**
 * Interfaces of the cache layer: the content store (blobs by digest), the SQLite metadata stores
 * (cache records, refs, stat cache, layer-blob cache, images, build history), context hashing, and
 * usage/prune/check. Implementations sit one per file beside this one. Everything here is safe for
 * several processes sharing one data root (see docs/cache.md).
 */
import type { RecordType } from '../solver/cache-types.js';
import type { SignalOptions } from './signal-options.js';

export type { RecordType, CacheRecord } from '../solver/cache-types.js';
export type { SignalOptions } from './signal-options.js';

// ---------------------------------------------------------------------------------------------
// Snapshots, as the cache sees them (the worker's overlay2 snapshotter, injected by the lead).

/** One snapshot the snapshotter knows. */
export interface SnapshotEntry {
  readonly id: string;
  /** Parent snapshot id (the next lower layer), undefined for a base layer. */
  readonly parent: string | undefined;
  /** When it was made (file-system time, ms). Unknown counts as old. */
  readonly createdAt?: number;
  /**
   * Still being written (not committed). Never garbage for the cache: the snapshotter's own
   * recovery removes those whose process died.
   */
  readonly active?: boolean;
}

export interface FootprintOptions extends SignalOptions {
  /** Bytes of a snapshot's own data (its diff) already measured: counted as given, not walked. */
  readonly knownDiffBytes: ReadonlyMap<string, number>;
}

/**
 * What the cache needs to know about snapshots (result ids) for du, prune and check. Implemented
 * by an adapter over the worker's snapshotter; the cache never touches overlay2/ itself.
 */
export interface SnapshotInventory {
  /** True when the committed snapshot exists. */
  exists(id: string, opts?: SignalOptions): Promise<boolean>;
  /**
   * Removes a committed snapshot. Called only for snapshots no kept record, live ref or kept
   * child needs; children are always removed before their parents. Removing a missing id is a no-op.
   */
  remove(id: string, opts?: SignalOptions): Promise<void>;
  /** Bytes of the snapshot's own data (its diff), not its parents'. */
  usage(id: string, opts?: SignalOptions): Promise<{ readonly bytes: number }>;
  /** Every snapshot with its parent (active ones flagged). */
  list(opts?: SignalOptions): Promise<readonly SnapshotEntry[]>;
  /**
   * Bytes the snapshotter's whole directory takes on disk (allocated, as du(1) counts them, on
   * its own file system only): snapshots recorded or not, their bookkeeping files, links.
   */
  footprint(opts: FootprintOptions): Promise<{ readonly bytes: number }>;
  /**
   * What processes that are gone left behind (half-made or half-removed snapshots, their mounts,
   * dangling links, stale markers): the paths the snapshotter's recovery would remove. Read-only.
   */
  leftovers(opts?: SignalOptions): Promise<readonly string[]>;
  /** Removes those leftovers; returns their paths. */
  removeLeftovers(opts?: SignalOptions): Promise<readonly string[]>;
}

// ---------------------------------------------------------------------------------------------
// Content store

/** A blob in the content store. */
export interface BlobInfo {
  /** "sha256:<64 hex>". */
  readonly digest: string;
  readonly size: number;
  /** When the blob file was committed (ms since epoch, from its mtime). */
  readonly committedAt: number;
}

export interface WriterOptions extends SignalOptions {
  /** When given, commit() fails with code BLOB_DIGEST_MISMATCH unless the content hashes to it. */
  readonly expected?: string;
  /** When given, commit() fails with code BLOB_SIZE_MISMATCH unless this many bytes were written. */
  readonly expectedSize?: number;
  /**
   * The caller never changes a chunk's bytes after writing it (each is a buffer of its own, as a
   * layer tar's are): the writer then takes the next chunks while earlier ones are still being
   * written. Default: each chunk is on disk before the next is taken (its buffer may be reused).
   */
  readonly chunksUnchanged?: boolean;
  /**
   * Told the blob's digest and size once every byte is hashed, before the final fsync and the
   * commit (an image's config can name a layer while the layer is still being made durable).
   * Synchronous; must not throw. Not called when the write fails before that.
   */
  readonly onHashed?: (measured: { readonly digest: string; readonly size: number }) => void;
}

export interface ReaderOptions extends SignalOptions {
  /** Byte offset to start reading from. Default 0. */
  readonly offset?: number;
}

export interface IngestCleanupOptions extends SignalOptions {
  /**
   * Also remove in-progress writes of LIVE processes older than this many milliseconds. Writes of
   * dead processes are always removed. Default: never remove a live writer's file.
   */
  readonly olderThanMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Refs

/** A live hold on a result (snapshot) that keeps prune away from it. */
export interface RefLease {
  readonly resultId: string;
  readonly holder: string;
  /** Drops this hold. Idempotent. */
  release(): Promise<void>;
}

export interface AcquireOptions extends SignalOptions {
  /** Parent snapshot id, recorded for du/prune. */
  readonly parent?: string;
  /** Bytes of the result's own data, when known. */
  readonly size?: number;
}

export interface RefInfo {
  readonly resultId: string;
  readonly parent: string | undefined;
  readonly size: number | undefined;
  readonly lastUsedAt: number;
  /** Holders whose process is alive. */
  readonly liveHolders: readonly string[];
  /** Holders whose process is gone (ignored; removed by cleanupDead/repair). */
  readonly deadHolders: readonly string[];
}

// Context hashing and the stat cache: src/cache/context-hash-types.ts.
export type {
  StatCacheEntry, StatCache, ContentChecksum, FileReadOptions, FileReader, ChecksumOptions, ChecksumPathOptions, ChecksumGroup, ChecksumState, HashContextOptions, ContextHashResult,
} from './context-hash-types.js';

// Build history: src/cache/history-types.ts.
export type { HistoryStepOutcome, StepFacts, FileFingerprint, HistoryStepInput, HistoryStep, BuildStatus, BuildRecord, LayerUsage } from './history-types.js';

// ---------------------------------------------------------------------------------------------
// Layer-blob cache (snapshot → compressed layer), for the exporter

export type LayerCompression = 'uncompressed' | 'gzip' | 'zstd';

/** `image`: the blob a base-image snapshot was unpacked from; `export`: made by diffing the snapshot. */
export type LayerBlobOrigin = 'image' | 'export';

export interface LayerBlobEntry {
  readonly snapshotId: string;
  readonly compression: LayerCompression;
  /** Digest of the blob as stored/shipped (compressed). */
  readonly blobDigest: string;
  /** Digest of the uncompressed layer tar (the config's rootfs.diff_ids entry). */
  readonly diffId: string;
  /** Size of the blob in bytes. */
  readonly size: number;
  readonly mediaType: string;
  readonly createdAt: number;
  readonly origin: LayerBlobOrigin;
}

/** The part of a layer-blob entry a garbage walk needs: the blob a snapshot holds. */
export type LayerBlobLink = Pick<LayerBlobEntry, 'snapshotId' | 'compression' | 'blobDigest'>;

// ---------------------------------------------------------------------------------------------
// Image store

export interface ImageEntry {
  /** Full reference, e.g. "docker.io/library/app:latest" (the caller normalizes). */
  readonly name: string;
  readonly manifestDigest: string;
  readonly configDigest: string;
  readonly mediaType: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A RepoDigest: the digest an image (by ID) has in one registry repository, as docker keeps them. */
export interface RepoDigestEntry {
  /** Full repository name without tag, e.g. "docker.io/library/app", "127.0.0.1:5000/app". */
  readonly repository: string;
  /** The manifest (or index) digest the registry holds for the image in that repository. */
  readonly digest: string;
}

export interface PutImageOptions {
  readonly name: string;
  readonly manifestDigest: string;
  readonly configDigest: string;
  /** Default: the OCI manifest media type. */
  readonly mediaType?: string;
}

// ---------------------------------------------------------------------------------------------
// du / prune / GC

export interface DiskUsageRecord {
  readonly key: string;
  readonly output: number;
  readonly resultId: string;
  readonly recordType: RecordType;
  readonly description: string;
  readonly size: number;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly useCount: number;
  /** A live ref holds its result. */
  readonly inUse: boolean;
  /** Its result is also held by another record or is a parent of another record's result. */
  readonly shared: boolean;
  /** Only with verbose: the parent snapshot (when there is one) and the input keys. */
  readonly parent?: string;
  readonly inputKeys?: readonly string[];
}

export interface DiskUsage {
  readonly records: readonly DiskUsageRecord[];
  /** Bytes of all distinct results held by records. */
  readonly totalBytes: number;
  /** Bytes of results held by one record and no child. */
  readonly privateBytes: number;
  readonly sharedBytes: number;
  /** Bytes prune --all could free now (not in use, not needed by a kept child). */
  readonly reclaimableBytes: number;
  /** Bytes of the content store (blobs). */
  readonly contentBytes: number;
  /** Layer blobs of the content store stored uncompressed (as builds keep their layers). */
  readonly uncompressedLayerBytes: number;
  /** Layer blobs stored compressed (made when layers left the machine, or pulled so). */
  readonly compressedLayerBytes: number;
  /** Everything under the data root, by place. */
  readonly disk: DataRootUsage;
}

/**
 * Where the bytes of a data root are: allocated bytes on disk as du(1) counts them (hard links
 * once, the data root's own file system only). `total` is their sum; it matches a walk of the
 * data root except for what changes while it is measured (see docs/cache.md).
 */
export interface DataRootUsage {
  /** ROOT/overlay2: every snapshot, recorded or not, with its bookkeeping files, links, init layer. */
  readonly snapshots: number;
  /** ROOT/content: blobs and unfinished writes. */
  readonly content: number;
  /** ROOT/metadata.db and its -wal and -shm files. */
  readonly metadata: number;
  /** Everything else: cache mounts, scratch (tmp), runc state, the data root directory itself. */
  readonly other: number;
  readonly total: number;
}

export interface DuOptions extends SignalOptions {
  /** Adds parent and input keys to each record. Default false. */
  readonly verbose?: boolean;
}

export interface PruneFilters {
  /** Only records of these types. */
  readonly type?: readonly RecordType[];
  /** Only records whose description contains this text. */
  readonly description?: string;
}

export interface PruneOptions extends SignalOptions {
  /** Also prune internal/frontend records. Default false. */
  readonly all?: boolean;
  /** Stop once the remaining records use at most this many bytes. */
  readonly keepStorage?: number;
  /** Keep records used within this many milliseconds. */
  readonly keepDuration?: number;
  readonly filters?: PruneFilters;
}

export interface PrunedRecord {
  readonly key: string;
  readonly output: number;
  readonly resultId: string;
  readonly recordType: RecordType;
  readonly description: string;
  readonly size: number;
}

export interface PruneResult {
  readonly records: readonly PrunedRecord[];
  /** Snapshots removed through the inventory. */
  readonly snapshotsRemoved: readonly string[];
  /** Layer blobs deleted from the content store. */
  readonly blobsRemoved: readonly string[];
  readonly bytesFreed: number;
}

/** One rule of a GC policy, applied in order (like BuildKit's gc policy rules). */
export interface GcRule {
  readonly all?: boolean;
  readonly filters?: PruneFilters;
  readonly keepDuration?: number;
  readonly keepStorage: number;
}

// ---------------------------------------------------------------------------------------------
// check / repair

export type { CheckProblem, CheckReport, RepairReport } from './check-types.js';

export interface CheckOptions extends SignalOptions {
  /** Re-hash every blob and compare with its name. Default false. */
  readonly deep?: boolean;
  /** Ingest/tmp entries of live processes count as orphans once older than this. Default 24 h. */
  readonly staleAfterMs?: number;
}
