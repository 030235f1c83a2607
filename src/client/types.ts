/**
 * The one interface the CLI talks to. The embedded implementation runs the engine in this process;
 * the gRPC implementation (tsbuildd) will implement the same interface, so every command works
 * the same way against either. Every method takes an AbortSignal; `close()` releases the engine.
 */
import type { BuildRequest, BuildResult } from '../engine/build.js';
import type { LoadedImage } from '../engine/image-load.js';
import type { ProgressWriter } from '../progress/types.js';
import type { ImageEntry, DiskUsage, DiskUsageRecord, PruneOptions, PruneResult, PrunedRecord, CheckProblem, CheckReport, RepairReport, RecordType } from '../cache/types.js';
import type { ImageConfig } from '../oci/types.js';
import type { GraphDriverData } from '../worker/types.js';
import type { PullRequest, PullSummary, PulledLayer } from '../engine/image-pull.js';
import type { PushRequest, PushSummary } from '../engine/image-push.js';
import type { RegistryAccess } from '../engine/registry-access.js';
import type { RemoteCacheReport } from '../engine/build-registry.js';
import type { TransferEvent } from '../registry/types.js';

export type { BuildRequest, BuildResult, LoadedImage };
export type { PullRequest, PullSummary, PulledLayer, PushRequest, PushSummary, RegistryAccess, RemoteCacheReport, TransferEvent };
export type { ImageEntry, DiskUsage, DiskUsageRecord, PruneOptions, PruneResult, PrunedRecord, CheckProblem, CheckReport, RepairReport, RecordType };

export interface CallOptions {
  readonly signal: AbortSignal;
}

export interface BuildCallOptions extends CallOptions {
  readonly progress: ProgressWriter;
}

/** One row of `tsbuild images`. */
export interface ImageSummary {
  /** Full reference (`docker.io/library/app:latest`), or undefined for an untagged image. */
  readonly name: string | undefined;
  /** As docker shows it: `app`, `myorg/app`, `<none>`. */
  readonly repository: string;
  /** Tag, or `<none>`. */
  readonly tag: string;
  /** Image ID: the config digest (`sha256:…`). */
  readonly id: string;
  readonly manifestDigest: string;
  /** The config's `created` (ISO 8601), when set. */
  readonly created: string | undefined;
  /** Bytes of file content in all layers (uncompressed), as `docker images` counts them. */
  readonly size: number;
}

/** One row of `tsbuild history`, newest first. */
export interface HistoryRow {
  /** The image ID on the top row, "<missing>" on the others, as docker shows for pulled images. */
  readonly id: string;
  readonly created: string | undefined;
  readonly createdBy: string;
  /** Bytes of file content in the row's layer (uncompressed), 0 for empty layers. */
  readonly size: number;
  readonly comment: string;
  readonly emptyLayer: boolean;
  /** diff_id of the row's layer; undefined for empty layers. */
  readonly layer: string | undefined;
}

/** `tsbuild inspect IMAGE`: the fields `docker inspect` shows for an image, in its spelling. */
export interface ImageInspect {
  /** Image ID (config digest). */
  readonly Id: string;
  readonly RepoTags: readonly string[];
  /** `repository@manifest digest` for every repository naming the image. */
  readonly RepoDigests: readonly string[];
  readonly Parent: string;
  readonly Comment: string;
  readonly Created: string | undefined;
  readonly DockerVersion: string;
  readonly Author: string;
  readonly Config: ImageConfig['config'];
  readonly Architecture: string;
  readonly Variant?: string;
  readonly Os: string;
  /** Bytes of file content in all layers (uncompressed). */
  readonly Size: number;
  readonly VirtualSize: number;
  /** overlay2 directories of the image's top snapshot (unpacked on demand); Data null without layers. */
  readonly GraphDriver: { readonly Name: 'overlay2'; readonly Data: GraphDriverData | null };
  readonly RootFS: { readonly Type: 'layers'; readonly Layers: readonly string[] };
  readonly Metadata: { readonly LastTagTime: string };
}

/** What `rmi` did for one reference. */
export interface RemovedImage {
  /** Names removed (full references). */
  readonly untagged: readonly string[];
  /** The image ID when its last name went, then the blobs deleted with it. */
  readonly deleted: readonly string[];
}

export interface RemoveImageOptions extends CallOptions {
  /** Remove every name of an image given by ID, even when there are several. Default false. */
  readonly force?: boolean;
}

export interface LoadRequest {
  /** Archive path, or `-` for `stdin`. */
  readonly source: string;
  readonly stdin?: NodeJS.ReadableStream;
}

/** Record types `prune --filter type=…` accepts (every RecordType). */
export const RECORD_TYPES: readonly RecordType[] = Object.keys({
  regular: true, 'source.local': true, 'source.image': true, 'source.http': true, 'source.git': true,
  'exec.cachemount': true, internal: true, frontend: true,
} satisfies Record<RecordType, true>) as RecordType[];

export interface ImportRequest {
  /** A rootfs tarball (plain or compressed), a directory, or `-` for stdin (then `stdin` is read). */
  readonly source: string;
  readonly stdin?: NodeJS.ReadableStream;
  readonly name: string;
  /** Dockerfile-like changes (`--change 'CMD ["sh"]'`), as docker import. */
  readonly changes?: readonly string[];
  readonly message?: string;
}

/** Calls that move images to or from a registry report each blob's progress. */
export interface TransferCallOptions extends CallOptions {
  readonly onProgress?: (e: TransferEvent) => void;
}

export interface Client {
  build(req: BuildRequest, opts: BuildCallOptions): Promise<BuildResult>;
  images(opts: CallOptions): Promise<ImageEntry[]>;
  /** `tsbuild images`: every stored image name with its ID, created time and size. */
  listImages(opts: CallOptions): Promise<ImageSummary[]>;
  /** Removes a name (or, by image ID, the image's names); deletes blobs no other image needs. */
  removeImage(name: string, opts: RemoveImageOptions): Promise<RemovedImage>;
  tagImage(source: string, target: string, opts: CallOptions): Promise<void>;
  history(name: string, opts: CallOptions): Promise<HistoryRow[]>;
  inspect(name: string, opts: CallOptions): Promise<ImageInspect>;
  importImage(req: ImportRequest, opts: CallOptions): Promise<ImageEntry>;
  /** `docker save` or OCI layout archives; returns the images loaded. */
  loadImages(req: LoadRequest, opts: CallOptions): Promise<LoadedImage[]>;
  diskUsage(opts: CallOptions & { readonly verbose: boolean }): Promise<DiskUsage>;
  prune(opts: PruneOptions & CallOptions): Promise<PruneResult>;
  /**
   * Consistency of the data root. Changes nothing when the client was opened without recovery
   * (as `cache check` does); otherwise `recovered` lists what the engine's start recovered first.
   */
  check(opts: CallOptions & { readonly deep?: boolean }): Promise<CheckReport & { readonly recovered: readonly string[] }>;
  /** Fixes what check finds (after the start's recovery, listed in `recovered`). */
  repair(opts: CallOptions & { readonly deep?: boolean }): Promise<RepairReport & { readonly recovered: readonly string[] }>;
  /** `tsbuild pull`: an image from its registry into the local store (layers already stored are skipped). */
  pull(req: PullRequest, opts: TransferCallOptions): Promise<PullSummary>;
  /** `tsbuild push`: an image of the local store to the registry its name designates. */
  push(req: PushRequest, opts: TransferCallOptions): Promise<PushSummary>;
  close(): Promise<void>;
}
