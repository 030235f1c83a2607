/**
 * The one interface the CLI talks to. The embedded implementation runs the engine in this process;
 * the gRPC implementation (tsbuildd) will implement the same interface, so every command works
 * the same way against either. Every method takes an AbortSignal; `close()` releases the engine.
 */
import type { BuildRequest, BuildResult } from '../engine/build.js';
import type { ProgressWriter } from '../progress/types.js';
import type { ImageEntry, DiskUsage, PruneOptions, PruneResult, CheckReport, RepairReport } from '../cache/types.js';
import type { ImageConfig, ImageManifest } from '../oci/types.js';
import type { GraphDriverData } from '../worker/types.js';

export type { BuildRequest, BuildResult };

export interface CallOptions {
  readonly signal: AbortSignal;
}

export interface BuildCallOptions extends CallOptions {
  readonly progress: ProgressWriter;
}

/** One row of `tsbuild history`. */
export interface HistoryRow {
  /** Layer digest (diff_id) or "<missing>" for empty layers, as docker shows. */
  readonly id: string;
  readonly created: string | undefined;
  readonly createdBy: string;
  /** Bytes of the layer (uncompressed), 0 for empty layers. */
  readonly size: number;
  readonly comment: string;
  readonly emptyLayer: boolean;
}

export interface ImageInspect {
  readonly name: string;
  readonly manifestDigest: string;
  readonly configDigest: string;
  readonly manifest: ImageManifest;
  readonly config: ImageConfig;
  /** overlay2 data of the image's top snapshot, when its layers are unpacked on this data root. */
  readonly graphDriver: { readonly Name: 'overlay2'; readonly Data: GraphDriverData } | undefined;
  readonly size: number;
}

export interface ImportRequest {
  /** A rootfs tarball (plain or compressed), a directory, or `-` for stdin (then `stdin` is read). */
  readonly source: string;
  readonly stdin?: NodeJS.ReadableStream;
  readonly name: string;
  /** Dockerfile-like changes (`--change 'CMD ["sh"]'`), as docker import. */
  readonly changes?: readonly string[];
  readonly message?: string;
}

export interface Client {
  build(req: BuildRequest, opts: BuildCallOptions): Promise<BuildResult>;
  images(opts: CallOptions): Promise<ImageEntry[]>;
  removeImage(name: string, opts: CallOptions): Promise<void>;
  tagImage(source: string, target: string, opts: CallOptions): Promise<void>;
  history(name: string, opts: CallOptions): Promise<HistoryRow[]>;
  inspect(name: string, opts: CallOptions): Promise<ImageInspect>;
  importImage(req: ImportRequest, opts: CallOptions): Promise<ImageEntry>;
  /** `docker save` or OCI layout archives; returns the images loaded. */
  loadImages(source: string, opts: CallOptions & { readonly stdin?: NodeJS.ReadableStream }): Promise<ImageEntry[]>;
  diskUsage(opts: CallOptions & { readonly verbose: boolean }): Promise<DiskUsage>;
  prune(opts: PruneOptions & CallOptions): Promise<PruneResult>;
  check(opts: CallOptions): Promise<CheckReport>;
  repair(opts: CallOptions): Promise<RepairReport>;
  close(): Promise<void>;
}
