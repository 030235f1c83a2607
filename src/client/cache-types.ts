/**
 * The contract's build-cache part (see types.ts for the rules every type here follows): disk
 * usage, prune, and the consistency check with its repair.
 */

/** What kind of step a cache record belongs to (`prune --filter type=`). */
export type RecordType = 'regular' | 'source.local' | 'source.image' | 'source.http' | 'source.git' | 'exec.cachemount' | 'internal' | 'frontend';

/** Every RecordType, for flag validation and help. */
export const RECORD_TYPES: readonly RecordType[] = Object.keys({
  regular: true, 'source.local': true, 'source.image': true, 'source.http': true, 'source.git': true,
  'exec.cachemount': true, internal: true, frontend: true,
} satisfies Record<RecordType, true>) as RecordType[];

export interface DiskUsageRequest {
  /** Also report each record's parent snapshot and input keys. Default false. */
  readonly verbose?: boolean;
}

/** One cache record. */
export interface DiskUsageRecord {
  /** The cache key (`sha256:…`, or `chain:…` for image layers). */
  readonly key: string;
  /** Output index of the op the record is for. */
  readonly output: number;
  /** The snapshot holding the result, or empty for results without files. */
  readonly resultId: string;
  readonly recordType: RecordType;
  /** The step's name. */
  readonly description: string;
  /** Bytes of the result's own data. */
  readonly size: number;
  /** When the record was made and last used (ms since the epoch). */
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly useCount: number;
  /** A running build holds its result. */
  readonly inUse: boolean;
  /** Its result is also held by another record or is a parent of another record's result. */
  readonly shared: boolean;
  /** Verbose only: the parent snapshot, when there is one. */
  readonly parent?: string;
  /** Verbose only: the cache keys of the step's inputs. */
  readonly inputKeys?: readonly string[];
}

export interface DiskUsage {
  /** Every record, largest first. */
  readonly records: readonly DiskUsageRecord[];
  /** Bytes of all distinct results held by records. */
  readonly totalBytes: number;
  /** Bytes of results held by one record and no child. */
  readonly privateBytes: number;
  readonly sharedBytes: number;
  /** Bytes `prune --all` could free now (not in use, not needed by a kept child). */
  readonly reclaimableBytes: number;
  /** Bytes of the content store (blobs: layers, configs, manifests). */
  readonly contentBytes: number;
  /** Layer blobs stored uncompressed (builds keep their layers so until they leave the machine). */
  readonly uncompressedLayerBytes: number;
  /** Layer blobs stored compressed (made for a push or an export and kept for the next; or pulled). */
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

export interface PruneRequest {
  /** Also prune internal and frontend records (base image layers included). Default false. */
  readonly all?: boolean;
  /** Stop once the remaining records use at most this many bytes. Default: remove all that match. */
  readonly keepStorage?: number;
  /** Keep records used within this many milliseconds. Default: keep none for that reason. */
  readonly keepDuration?: number;
  /** Only records of these types, and/or whose description contains this text. */
  readonly filters?: { readonly type?: readonly RecordType[]; readonly description?: string };
}

/** One record prune removed. */
export interface PrunedRecord {
  readonly key: string;
  readonly output: number;
  readonly resultId: string;
  readonly recordType: RecordType;
  readonly description: string;
  /** Bytes it held. */
  readonly size: number;
}

export interface PruneResult {
  readonly records: readonly PrunedRecord[];
  /** Snapshots removed. */
  readonly snapshotsRemoved: readonly string[];
  /** Layer blobs deleted from the content store. */
  readonly blobsRemoved: readonly string[];
  readonly bytesFreed: number;
}

/** One inconsistency of the data root. */
export type CheckProblem =
  | { readonly kind: 'missing-snapshot'; readonly key: string; readonly output: number; readonly resultId: string }
  | { readonly kind: 'blob-digest-mismatch'; readonly digest: string; readonly actual: string }
  | { readonly kind: 'bad-blob-name'; readonly path: string }
  | { readonly kind: 'orphan-ingest'; readonly path: string }
  | { readonly kind: 'orphan-tmp'; readonly path: string }
  | { readonly kind: 'dead-ref'; readonly resultId: string; readonly holder: string }
  | { readonly kind: 'stale-tombstone'; readonly resultId: string }
  | { readonly kind: 'stale-lock'; readonly name: string }
  | { readonly kind: 'missing-layer-blob'; readonly snapshotId: string; readonly blobDigest: string }
  /** A committed snapshot no record, live ref or running operation needs, nor any snapshot above it. */
  | { readonly kind: 'orphan-snapshot'; readonly snapshotId: string; readonly bytes: number }
  /** A blob no image, kept snapshot's layer entry or running operation reaches. */
  | { readonly kind: 'orphan-blob'; readonly digest: string; readonly size: number }
  /** A ref row (parent, size) nobody holds, of a snapshot that no longer exists. */
  | { readonly kind: 'orphan-ref'; readonly resultId: string }
  /** A layer-blob entry of a snapshot that no longer exists. */
  | { readonly kind: 'orphan-layer-entry'; readonly snapshotId: string; readonly blobDigest: string }
  /** What a process that is gone left in the snapshotter's directory. */
  | { readonly kind: 'snapshot-leftover'; readonly path: string }
  /** An operation (build, load, prune...) whose process died before it finished. */
  | { readonly kind: 'dead-lease'; readonly id: string; readonly label: string }
  | { readonly kind: 'db-integrity'; readonly message: string };

export interface CheckRequest {
  /** Also re-hash every blob and compare it with its name. Default false. */
  readonly deep?: boolean;
}

export interface CheckResult {
  /** No problems remain. */
  readonly ok: boolean;
  readonly problems: readonly CheckProblem[];
  readonly recordsChecked: number;
  readonly blobsChecked: number;
  /** What reaching the engine recovered from crashed processes, one line each. */
  readonly recovered: readonly string[];
}

export interface RepairReport {
  readonly fixed: readonly CheckProblem[];
  /** Problems repair does not touch (e.g. a damaged database). */
  readonly remaining: readonly CheckProblem[];
  /** What reaching the engine recovered from crashed processes first, one line each. */
  readonly recovered: readonly string[];
}
