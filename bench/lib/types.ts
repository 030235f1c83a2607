/**
 * The contracts of the benchmark helpers: one `Builder` per tool under comparison (tsbuild through
 * its real CLI, Docker BuildKit through a private dockerd, Buildah with a private storage root), so
 * each benchmark runs the same scenario against every tool the same way.
 */

/** The tools a benchmark compares. */
export type ToolName = 'tsbuild' | 'docker' | 'buildah';

export const TOOL_NAMES: readonly ToolName[] = ['tsbuild', 'docker', 'buildah'];

/** One build of a Dockerfile in a context directory. */
export interface BuildRequest {
  /** The context directory; its `Dockerfile` is used. */
  readonly contextDir: string;
  /** The image name to tag the result with (each tool adds its own registry prefix). */
  readonly tag: string;
  /** Ignore the build cache (still exports the image). */
  readonly noCache?: boolean;
  /**
   * tsbuild only: a `-o` output spec instead of the image store (e.g. `type=oci,dest=…`). Docker
   * 20.10's embedded BuildKit and Buildah 1.28 have no OCI output, so they always use their store.
   */
  readonly output?: string;
}

/** What one build cost, measured from the outside. */
export interface BuildOutcome {
  /** Wall time of the whole tool process, spawn to exit (process start included). */
  readonly wallMs: number;
  /**
   * Time of the export step: tsbuild's "exporting to …" vertex (rawjson), Docker's "exporting to
   * image" step (plain progress `DONE`), Buildah's COMMIT line to process exit. Undefined when the
   * tool did not report one.
   */
  readonly exportMs: number | undefined;
  /** Dockerfile steps the tool reported, and how many of them it took from its cache. */
  readonly steps: number;
  readonly cachedSteps: number;
}

/** One layer of a built image. */
export interface ImageLayer {
  /** sha256 of the uncompressed layer tar (the config's diff_id). */
  readonly diffId: string;
  /** Bytes of the uncompressed layer tar. */
  readonly tarSize: number;
  /**
   * Bytes of the blob as the tool stores it for export and push: tsbuild's gzip blob. Undefined
   * for tools that keep layers uncompressed and compress only on push (Docker, Buildah).
   */
  readonly blobSize: number | undefined;
}

export interface OpOptions {
  readonly signal: AbortSignal;
}

/**
 * A build tool with its own private state (data root, daemon, storage). Lifetime: created by
 * `openBuilders`, owned by the benchmark, `close()`d exactly once in a `finally`; close removes
 * every mount, process and directory the builder made, also after an abort.
 */
export interface Builder {
  readonly name: ToolName;
  /** One line naming the tool's version, for the report. */
  readonly version: string;
  /**
   * Forgets every build: afterwards the tool holds only the base image (`localhost/busybox:latest`),
   * no cache, no other images.
   */
  reset(opts: OpOptions): Promise<void>;
  /** Builds; throws (with the tool's output tail) when the tool fails. */
  build(req: BuildRequest, opts: OpOptions): Promise<BuildOutcome>;
  /** The layers of an image built with `tag`, base layer first. */
  layers(tag: string, opts: OpOptions): Promise<ImageLayer[]>;
  close(): Promise<void>;
}
