/**
 * The worker layer's interfaces. Implementations live one per file in the folders beside this one;
 * callers (solver glue, executor, file ops, sources, exporter) depend on these contracts only.
 *
 * Sections: Snapshots (src/worker/snapshot), Layers: diff and apply (src/worker/diff). Other
 * sections are added by their owners below; keep each section self-contained.
 */
import type { Readable } from 'node:stream';
import type { FileStat, TarReuse } from './diff/tar-index.js';

// ─────────────────────────────────────────────────────────────────────────────────────────────────
// Snapshots (src/worker/snapshot)
// ─────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * `active`: writable, made by `prepare`, owned by the process that prepared it until `commit` or
 * `remove`. `committed`: immutable; may be a parent, viewed, diffed and removed once childless.
 */
export type SnapshotKind = 'active' | 'committed';

/** What `list()` reports about one snapshot. */
export interface SnapshotInfo {
  /** Random 64-hex id; also the directory name under `ROOT/overlay2/`. */
  readonly id: string;
  readonly kind: SnapshotKind;
  /** The committed snapshot this one sits on; undefined for a base snapshot. */
  readonly parent: string | undefined;
  /** Short link name: `ROOT/overlay2/l/<link>` points at this snapshot's `diff/`. */
  readonly link: string;
  /** Milliseconds since the Unix epoch. */
  readonly createdAt: number;
}

/**
 * A writable snapshot made by `prepare`. Writes go straight into `upperDir` (an applier or a file
 * op can fill it without mounting) or through a `mount()` of it (RUN steps). It stays active until
 * `commit` (which freezes it under the same id) or `remove`.
 */
export interface ActiveSnapshot {
  readonly id: string;
  readonly parent: string | undefined;
  /** `ROOT/overlay2/<id>/diff`: this snapshot's own changes in overlay format (whiteouts, opaque dirs). */
  readonly upperDir: string;
  /** `ROOT/overlay2/<id>/work`: overlayfs' scratch directory. */
  readonly workDir: string;
  /** `ROOT/overlay2/<id>/merged`: where `mount()` puts the writable view. */
  readonly mergedDir: string;
}

/**
 * One reference to a mounted snapshot. Mounts are shared and reference counted inside one
 * snapshotter: two users of the same view share one kernel mount; the last `release()` unmounts.
 * `release()` is idempotent; pair every acquire with it in `try/finally`.
 */
export interface MountRef {
  /** Absolute path of the mounted directory. Valid until `release()`. */
  readonly path: string;
  /** `'ro'` for views of committed snapshots, `'rw'` for active snapshots. */
  readonly access: 'ro' | 'rw';
  release(): Promise<void>;
}

/** Disk usage of one snapshot's own `diff/` (like `du`: allocated blocks, hardlinks counted once). */
export interface SnapshotUsage {
  readonly bytes: number;
  readonly inodes: number;
}

/**
 * What `docker inspect` shows as `GraphDriver.Data` for overlay2: absolute paths; `LowerDir` is the
 * parents' `diff/` directories joined with `:`, nearest first, and absent for a base snapshot.
 */
export interface GraphDriverData {
  readonly LowerDir?: string;
  readonly UpperDir: string;
  readonly MergedDir: string;
  readonly WorkDir: string;
}

/** Options every snapshot operation takes. */
export interface SnapshotOpOptions {
  readonly signal?: AbortSignal;
}

/** Options of `Snapshotter.mount()`. */
export interface MountOptions extends SnapshotOpOptions {
  /**
   * The mount is a container's root filesystem (a RUN step): an init layer sits between the chain
   * and the upper dir, so that the runtime's mount points (`/dev`, `/proc`, `/sys`) are real
   * directories whatever the image has there. A base image whose `/dev` is a symlink would
   * otherwise make runc create device nodes and links wherever the link points, on the host
   * (runc joins those paths naively). The init layer's files never reach the committed layer: the
   * runtime mounts over all of it, and the upper dir only holds what the step writes — except that
   * each of its directories the image has no entry for is made in the upper dir at the unmount, as
   * Docker's runtime leaves its mount points in a `FROM scratch` step's layer (init-dirs.ts). The
   * flag is fixed by the first mount of an active snapshot (mounts are shared). Default false.
   */
  readonly containerRoot?: boolean;
}

export interface PrepareOptions extends SnapshotOpOptions {
  /** Committed snapshot to build on; a fresh empty base when absent. */
  readonly parent?: string;
}

export interface StaleCleanupOptions extends SnapshotOpOptions {
  /** Report only; change nothing. Default false. */
  readonly dryRun?: boolean;
}

export interface FootprintOptions extends SnapshotOpOptions {
  readonly knownDiffBytes: ReadonlyMap<string, number>;
}

/** What `cleanupStale()` undid. */
export interface StaleCleanupReport {
  /** Mount points unmounted because the process that mounted them is gone. */
  readonly unmounted: readonly string[];
  /** Ids of active snapshots removed because the process that prepared them is gone. */
  readonly removedSnapshots: readonly string[];
  /** Leftover temporary directories, dangling links and half-removed snapshots deleted. */
  readonly removedLeftovers: readonly string[];
}

/**
 * An overlay2 snapshotter over `ROOT/overlay2` (Docker's layout). Safe for several processes on one
 * data root: ids and link names are random, metadata files are written atomically, and parent/child
 * bookkeeping is race-free. Every mount it makes is undone on success, failure and cancellation.
 */
export interface Snapshotter {
  /** Creates an active snapshot on top of `parent` (a committed snapshot), or an empty base. */
  prepare(opts?: PrepareOptions): Promise<ActiveSnapshot>;
  /**
   * Freezes an active snapshot. The id does not change: the returned id is `active.id`. Refused
   * while the snapshot is mounted.
   */
  commit(active: ActiveSnapshot | string, opts?: SnapshotOpOptions): Promise<string>;
  /** Deletes a snapshot (active or committed). Refused while it has children or is mounted. */
  remove(id: string, opts?: SnapshotOpOptions): Promise<void>;
  /** Read-only overlay mount of a committed snapshot's whole chain. Shared and reference counted. */
  view(id: string, opts?: SnapshotOpOptions): Promise<MountRef>;
  /** Writable overlay mount of an active snapshot at its `mergedDir`. Shared and reference counted. */
  mount(active: ActiveSnapshot | string, opts?: MountOptions): Promise<MountRef>;
  /** `view(id)`, run `fn`, always release (also when `fn` throws or the signal aborts). */
  withView<T>(id: string, fn: (root: string) => Promise<T>, opts?: SnapshotOpOptions): Promise<T>;
  /** `mount(active)`, run `fn`, always release. */
  withMount<T>(active: ActiveSnapshot | string, fn: (root: string) => Promise<T>, opts?: SnapshotOpOptions): Promise<T>;
  usage(id: string, opts?: SnapshotOpOptions): Promise<SnapshotUsage>;
  /** The parent id, or undefined for a base snapshot. Throws SNAPSHOT_NOT_FOUND for unknown ids. */
  parent(id: string): Promise<string | undefined>;
  /** `[id, parent, grandparent, …, base]`: the snapshot itself first. */
  chain(id: string): Promise<readonly string[]>;
  list(): Promise<readonly SnapshotInfo[]>;
  /** Kind and parent of one snapshot; throws SNAPSHOT_NOT_FOUND for unknown ids. */
  stat(id: string): Promise<SnapshotInfo>;
  /** Absolute path of the snapshot's own changes (`diff/`), for differs and appliers. */
  diffDir(id: string): string;
  graphDriverData(id: string): Promise<GraphDriverData>;
  /**
   * Undoes what crashed processes left behind: unmounts their mounts, removes their active
   * snapshots, half-created or half-removed directories and dangling links. Safe to run while other
   * live processes use the same data root. With `dryRun`, changes nothing and reports what it
   * would undo.
   */
  cleanupStale(opts?: StaleCleanupOptions): Promise<StaleCleanupReport>;
  /**
   * Bytes the whole snapshot directory takes on disk (allocated, its own file system only), with
   * the `diff/` of each snapshot in `knownDiffBytes` counted as given instead of walked.
   */
  footprint(opts: FootprintOptions): Promise<{ readonly bytes: number }>;
  /** Releases every mount this snapshotter still holds (engine shutdown). */
  close(): Promise<void>;
}

// ─────────────────────────────────────────────────────────────────────────────────────────────────
// Layers: diff and apply (src/worker/diff)
// ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface DiffOptions {
  readonly signal?: AbortSignal;
  /**
   * Seconds since the Unix epoch (SOURCE_DATE_EPOCH): every mtime later than this is clamped to it,
   * for reproducible layers. No clamping when absent.
   */
  readonly sourceDateEpoch?: number;
  /** An earlier layer's tar to copy the entries of shared (hard-linked) files from (tar-index.ts). */
  readonly reuse?: TarReuse;
  /** Each regular file's entry and its place in the tar, for a tar index (tar-index.ts). */
  readonly onFileEntry?: (path: string, st: FileStat, offset: number, length: number) => void;
}

/**
 * Turns a snapshot's own changes into an uncompressed OCI layer tar: overlay whiteouts become
 * `.wh.<name>`, opaque directories a `.wh..wh..opq` entry; entries in a fixed order; hardlinks as
 * link entries; uid/gid/mode/mtime/xattrs kept. Streaming: memory does not grow with file or layer
 * size. The same snapshot always gives the same bytes. A directory overlayfs copied up without
 * changing it (its entry equals the lower one's) is left out unless something below it is in the
 * layer, as in BuildKit's layers.
 */
export interface LayerDiffer {
  /**
   * The layer tar of committed (or not currently written) snapshot `id`. The stream ends with the
   * tar's end marker; destroying it stops the walk and closes every file.
   */
  diff(id: string, opts?: DiffOptions): Readable;
}

export interface ApplyOptions {
  readonly signal?: AbortSignal;
  /** Committed snapshot the new one sits on; a base snapshot when absent. */
  readonly parent?: string;
  /**
   * When true the layer may not create device nodes (other than whiteouts) and ownership is not
   * changed. Default: true unless the process runs as root.
   */
  readonly unprivileged?: boolean;
  /** The layer's blob digest, named in errors (`layer sha256:… entry "x": …`). */
  readonly digest?: string;
}

/** The outcome of applying one layer. */
export interface AppliedLayer {
  /** The new committed snapshot holding the layer's changes. */
  readonly id: string;
  /** `sha256:<hex>` of the uncompressed tar (the image config's diff_id). */
  readonly diffId: string;
  /** Bytes of the uncompressed tar. */
  readonly uncompressedSize: number;
}

/**
 * Unpacks a layer tar (uncompressed or gzip, detected by magic bytes) into a new committed
 * snapshot, turning OCI whiteouts back into overlay whiteouts and opaque xattrs. Hardened against
 * hostile layers: nothing is ever written outside the new snapshot's `diff/`; on any error the new
 * snapshot is removed and the error names the offending entry.
 */
export interface LayerApplier {
  apply(layer: AsyncIterable<Uint8Array> | Readable, opts?: ApplyOptions): Promise<AppliedLayer>;
}

// ─────────────────────────────────────────────────────────────────────────────────────────────────
// File operations and remote sources (src/worker/fileop, src/worker/source; docs/fileops.md)
// ─────────────────────────────────────────────────────────────────────────────────────────────────

export type { ChownOpt, CopyAction, CopyResult, FileAction, FileOpContext, MkdirAction, MkfileAction, Owner, RmAction, SymlinkAction } from './fileop/types.js';
export type { GitSourceOptions, GitSourceResult, HttpCacheHints, HttpSourceOptions, HttpSourceResult } from './source/types.js';
