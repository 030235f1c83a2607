/**
 * Exporters turn a build result (a committed snapshot and the image config the frontend produced)
 * into something outside the engine: an image in the local store, an OCI or docker archive, a
 * directory, a tar. They are registered by type name (`type=oci` in `-o type=oci,dest=…`).
 */
import type { Writable } from 'node:stream';
import type { CacheStorage } from '../cache/cache-storage.js';
import type { LayerDiffer, Snapshotter } from '../worker/types.js';
import type { ImageConfig } from '../oci/types.js';
import type { VertexProgress } from '../progress/types.js';
import type { Compression } from './layer-blob.js';

/** What every exporter gets. Borrowed for the duration of one export. */
export interface ExportContext {
  readonly storage: CacheStorage;
  readonly snapshotter: Snapshotter;
  readonly differ: LayerDiffer;
  readonly tmpDir: string;
  readonly signal: AbortSignal;
  /** Progress of the "exporting to …" step. */
  readonly progress: VertexProgress;
  /** Opens an output file, or the client's stdout for `dest=-`. */
  openOutput(dest: string): Promise<Writable>;
}

export interface ExportRequest {
  /** Committed snapshot of the result; undefined for an empty (scratch) result. */
  readonly snapshot: string | undefined;
  /** Image config from the frontend (history included); rootfs and created are set here. */
  readonly config: ImageConfig;
  /** `-t` names (normalized references). */
  readonly names: readonly string[];
  /** The `-o` attributes (`dest`, `name`, `compression`, `compression-level`, …). */
  readonly attrs: ReadonlyMap<string, string>;
  /** SOURCE_DATE_EPOCH: created times and layer mtimes clamped to it, for reproducible digests. */
  readonly sourceDateEpoch: number | undefined;
}

export interface ExportResponse {
  /** Manifest digest (`containerimage.digest` in `--metadata-file`). */
  readonly imageDigest?: string;
  /** Config digest: the image ID (`--iidfile`, `-q`, `tsbuild images`). */
  readonly configDigest?: string;
  /** Extra facts for `--metadata-file`, e.g. `image.name`. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface Exporter {
  readonly type: string;
  export(req: ExportRequest, ctx: ExportContext): Promise<ExportResponse>;
}

export type ExporterFactory = () => Exporter;

/** Parsed `--output` spec: `type=oci,dest=out.tar` (a bare path means `type=local,dest=PATH`). */
export interface OutputSpec {
  readonly type: string;
  readonly attrs: ReadonlyMap<string, string>;
}

/** How layers leave the machine (`compression=`, `compression-level=`, `force-compression=`). */
export interface LayerOptions {
  readonly compression: Compression;
  /** gzip 0-9 (default 6), zstd 0-22 (default 3). */
  readonly level?: number;
  /** Convert also base-image layers stored in another compression (default false). */
  readonly force?: boolean;
}
