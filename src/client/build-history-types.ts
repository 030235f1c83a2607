/** The contract's build-history types (mirrors src/engine/types.ts; checked by test/client/contract-types.test.ts). */
// ---------------------------------------------------------------------------------------------
// Build history (past builds: steps, cached or executed, why, durations)

/** Which past builds to show. */
export interface BuildHistoryRequest {
  /** One build by id; default: the newest builds. */
  readonly buildId?: string;
  /** At most this many builds (newest first); default 50. */
  readonly limit?: number;
  /** Include the context paths each step's cache key read (PastBuildStep.files). Default false. */
  readonly files?: boolean;
}

export type PastBuildStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export type PastStepOutcome = 'cached' | 'executed' | 'skipped' | 'failed' | 'canceled';

export interface PastBuildStep {
  readonly index: number;
  /** Progress name (`[2/3] COPY package.json ./`). */
  readonly name: string;
  /** Stage name or index; "" for internal steps. */
  readonly stage: string;
  /** The instruction as written (`COPY package.json ./`). */
  readonly instruction: string;
  readonly cacheKey?: string;
  readonly outcome: PastStepOutcome;
  /** Why an executed step was not served from the cache (`package.json changed`). */
  readonly why?: string;
  readonly started?: number;
  readonly completed?: number;
  readonly durationMs: number;
  /** Bytes of the step's layer, when known. */
  readonly layerSize?: number;
  /** Bytes of the context files its cache key read. */
  readonly bytesRead?: number;
  /** How many context files (and directories) its cache key read. */
  readonly filesRead: number;
  /**
   * The context paths (files and directories, sorted) its cache key read, when the request asked
   * for them (`files`) and the history kept them (at most 10000 per step).
   */
  readonly files?: readonly string[];
}

export interface PastBuild {
  readonly buildId: string;
  /** The tags, else the target, else the Dockerfile's name. */
  readonly description: string;
  /** Which Dockerfile (absolute path, or the daemon's client context key and file name). */
  readonly dockerfile: string;
  readonly status: PastBuildStatus;
  readonly started: number;
  readonly completed?: number;
  readonly stepsTotal: number;
  readonly stepsCached: number;
  readonly stepsExecuted: number;
  /** In build order (inputs first). */
  readonly steps: readonly PastBuildStep[];
  /** The built image's layers, bottom first; absent when not recorded (a failed build, or one recorded before history schema 6). */
  readonly layers?: readonly PastLayer[];
}

/** One layer of a past build's image. */
export interface PastLayer {
  /** Bytes of its file content, uncompressed, as `docker history` counts it (regular files, hard links once, symlink targets). */
  readonly size: number;
  readonly files: number;
  /** Bytes of its files that a later layer replaces or deletes. */
  readonly wastedBytes: number;
}
