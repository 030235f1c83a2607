/** The build history the cache keeps (src/cache/history.ts): builds, their steps and layers. */

/** How a step ended in one build (the solver's outcomes). */
export type HistoryStepOutcome = 'cached' | 'executed' | 'skipped' | 'failed' | 'canceled';

/** What went into a step's cache key besides its parent and the files it read. */
export interface StepFacts {
  /** The op's own definition digest (for a FROM, derived from the image ID). */
  readonly opDigest?: string;
  /** Every input part of the key, in order: an input's cache key or `content:<checksum>`. */
  readonly inputs?: readonly string[];
  /** Build ARG values the step sees (RUN steps), by name. */
  readonly args?: Readonly<Record<string, string>>;
  /** For FROM: the image ID (config digest) the reference resolved to. */
  readonly imageId?: string;
}

/** One file a step read, as the history keeps it: root-relative path and entry fingerprint. */
export type FileFingerprint = readonly [path: string, fingerprint: string];

export interface HistoryStepInput {
  readonly index: number;
  readonly vertexDigest: string;
  /** Progress name (`[2/3] COPY package.json ./`). */
  readonly name: string;
  /** Stage name or index; "" for internal vertices. */
  readonly stage: string;
  /** The instruction as written (the name without its `[stage n/m]` prefix). */
  readonly instruction: string;
  readonly cacheKey: string | undefined;
  /** Cache key of the step's parent (its first input keyed by cache key). */
  readonly parentKey: string | undefined;
  readonly outcome: HistoryStepOutcome;
  /** For executed steps: why they were not served from the cache. */
  readonly why: string | undefined;
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
  readonly durationMs: number;
  /** Bytes of the step's layer, when known. */
  readonly layerSize: number | undefined;
  /** Bytes of the context files the step's key read. */
  readonly bytesRead: number | undefined;
  readonly facts: StepFacts;
  /** The context files the key read, sorted by path; undefined when it read none. */
  readonly files: readonly FileFingerprint[] | undefined;
}

export interface HistoryStep extends Omit<HistoryStepInput, 'files'> {
  /** Set when the step's file list was loaded (filesOf) and kept; `truncated` when cut at the bound. */
  readonly filesTruncated: boolean;
  readonly filesCount: number;
}

export type BuildStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface BuildRecord {
  readonly buildId: string;
  /** Free-form description (e.g. the tags or target). */
  readonly description: string;
  /** Which Dockerfile: an absolute path, or the daemon's client context key and file name. */
  readonly dockerfile: string;
  readonly status: BuildStatus;
  readonly startedAt: number;
  readonly finishedAt: number | undefined;
  readonly stepsTotal: number;
  readonly stepsCached: number;
  readonly stepsExecuted: number;
  /** The built image's layers, bottom first (undefined: not recorded, e.g. a failed build). */
  readonly layers: readonly LayerUsage[] | undefined;
}

/** One layer of a built image (src/engine/layer-usage.ts). */
export interface LayerUsage {
  /** Bytes of the file content the layer holds, uncompressed (regular files, hard links once, symlink targets). */
  readonly size: number;
  readonly files: number;
  /** Bytes of this layer's files that a later layer replaces or deletes (they ship but are unseen). */
  readonly wastedBytes: number;
}
