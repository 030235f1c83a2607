/**
 * Interfaces of the cache layer: the content store (blobs by digest), the SQLite metadata stores
 * (cache records, refs, stat cache, layer-blob cache, images, build history), context hashing, and
 * usage/prune/check. Implementations sit one per file beside this one. Everything here is safe for
 * several processes sharing one data root (see docs/cache.md).
 */
import type { RecordType } from '../solver/cache-types.js';
import type { SourceLocation } from '../util/errors.js';

export type { RecordType, CacheRecord } from '../solver/cache-types.js';

/** Every async API in this layer takes one. */
export interface SignalOptions {
  readonly signal?: AbortSignal;
}

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

// ---------------------------------------------------------------------------------------------
// Stat cache (context hashing)

/** What the stat cache remembers per (root, path). */
export interface StatCacheEntry {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly mode: number;
  /** Content digest of the file ("xxh64:<16 hex>"). */
  readonly digest: string;
}

/**
 * Remembers file content digests keyed by (root, path) so that unchanged files (same size, mtime,
 * ctime, inode) are not read again.
 */
export interface StatCache {
  get(root: string, path: string): StatCacheEntry | undefined;
  /** Loads every entry of a root at once, for hashing many of its files (optional). */
  preload?(root: string): void;
  /** Stores entries in short transactions. */
  putMany(root: string, entries: readonly StatCacheEntry[]): void;
  /** Forgets every entry of a root (or all roots). Returns the number removed. */
  clear(root?: string): number;
}

// ---------------------------------------------------------------------------------------------
// Context hashing

/** A digest of file data, from context hashing: "xxh64:<16 hex>". */
export type ContentChecksum = string;

export interface FileReadOptions extends SignalOptions {
  /** The file's size from its stat, for sizing buffers (the file may have changed since). */
  readonly sizeHint?: number;
}

/** Reads a file's content as chunks; injectable so tests can count reads. */
export type FileReader = (absPath: string, opts: FileReadOptions) => AsyncIterable<Uint8Array>;

export interface ChecksumOptions extends SignalOptions {
  /** .dockerignore patterns: excluded paths are not part of any checksum. */
  readonly excludes?: readonly string[];
  /** Remembers file digests across calls. Default: none (every file is read). */
  readonly statCache?: StatCache;
  /**
   * Files whose mtime or ctime lies within this many ms before they were read are hashed but not
   * stored in the stat cache: a write in the same timestamp tick could go unnoticed. Default 2000.
   */
  readonly racyWindowMs?: number;
  /** Injected file reader (default: one read for files up to 1 MiB, else streaming). */
  readonly readFile?: FileReader;
  /** Where the selector came from, for the error when it matches nothing. */
  readonly location?: SourceLocation;
  /**
   * Called once per entry a checksum covers: its root-relative path, a fingerprint of just that
   * entry (type, mode, owner, content digest or link target; never timestamps) and its size in
   * bytes (0 for non-files). The build history keeps these to name the files that made a step miss.
   */
  readonly onEntry?: (path: string, fingerprint: string, size: number) => void;
}

export interface ChecksumPathOptions extends ChecksumOptions {
  /** Treat the selector as a wildcard pattern (COPY sources). Default: true when it has * ? or [. */
  readonly wildcard?: boolean;
  /** Follow a symlink at the selected path itself (inside the root), as COPY does. Default true. */
  readonly followLinks?: boolean;
  /** A selector that matches nothing yields the digest of "nothing" instead of an error. */
  readonly allowEmptyWildcard?: boolean;
}

/** One top-level match of a wildcard selector: its checksum and the entries it covered. */
export interface ChecksumGroup {
  /** Root-relative path of the match. */
  readonly match: string;
  readonly digest: ContentChecksum;
  /** (path, fingerprint, size) per entry covered, flat, as `onEntry` reports them. */
  readonly entries: readonly (string | number)[];
  /** A symlink followed to wherever it points: its checksum may change with other paths. */
  readonly followed: boolean;
}

/**
 * A selector's checksum with what ContextHasher.checksumPathUpdate needs to redo only the part a
 * set of changed paths touches: every wildcard match on its own, or the literal path it resolved to.
 */
export type ChecksumState =
  | { readonly kind: 'wildcard'; readonly digest: ContentChecksum; readonly groups: readonly ChecksumGroup[] }
  | {
    readonly kind: 'literal';
    readonly digest: ContentChecksum;
    /** Root-relative path the selector resolved to ('' = the whole context). */
    readonly resolved: string;
    /** The selector named `resolved` itself (no symlink on the way). */
    readonly direct: boolean;
    /** (path, fingerprint, size) per entry covered, flat. */
    readonly entries: readonly (string | number)[];
  };

export interface HashContextOptions extends ChecksumOptions {
  /** The context directory. */
  readonly root: string;
  /** Selected paths/patterns (the COPY sources, i.e. followpaths). Default: the whole context. */
  readonly include?: readonly string[];
}

export interface ContextHashResult {
  readonly digest: ContentChecksum;
  /** Entries (files, dirs, links) covered. */
  readonly entries: number;
  readonly bytes: number;
  /** Files actually read (stat-cache misses). */
  readonly filesRead: number;
}

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
