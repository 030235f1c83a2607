/**
 * The data of `tsbuild compare`: Dockerfile variants of one context, each built cold in a scratch
 * store and rebuilt after each change scenario. The JSON output is this shape (schema:
 * docs/report-schema.json); the table and the HTML page render it. Sizes are bytes; times are ms.
 */

/** One build of one variant (cold, or a rebuild after a scenario's change). */
export interface CompareRun {
  readonly durationMs: number;
  readonly stepsTotal: number;
  readonly stepsCached: number;
  readonly stepsExecuted: number;
  /** Time-weighted hit ratio (time saved / time the build would take cold), 0..1; null when unknown. */
  readonly hitRatio: number | null;
}

/** One layer of a variant's image, bottom first. */
export interface CompareLayer {
  /** The instruction that made it (`COPY package.json ./`), or `FROM IMAGE` for base layers. */
  readonly instruction: string;
  /** Uncompressed bytes of its file content, as `docker history` counts it (regular files, hard links once, symlink targets). */
  readonly size: number;
  /** Bytes of its blob as pushed (compressed). */
  readonly compressedSize: number;
  /** Bytes of its files that a later layer replaces or deletes. */
  readonly wastedBytes: number;
}

/** A change applied to a scratch copy of the context before every variant rebuilds. */
export interface CompareScenario {
  readonly id: string;
  /** `touch package.json` or the --change command as given. */
  readonly description: string;
  /** Context-relative files it changed (when known). */
  readonly files: readonly string[];
}

export interface CompareRebuild {
  /** CompareScenario.id */
  readonly scenario: string;
  readonly run: CompareRun;
  /**
   * Blobs a push must send when the registry holds the previous (cold) image: the compressed
   * layers and the image config it lacks (the config counts too: it is a blob a push uploads).
   */
  readonly pushBytes: number;
  /** Blobs (compressed layers and config) a pull by a host holding the previous image must fetch. */
  readonly pullBytes: number;
  /** Every executed step: `RUN npm ci: parent step rebuilt (COPY package.json ./)`. */
  readonly missReasons: readonly string[];
}

export interface CompareVariant {
  /** Short label (`split`, `single`, or the Dockerfile path when those clash). */
  readonly name: string;
  readonly dockerfile: string;
  readonly cold: CompareRun;
  readonly layers: readonly CompareLayer[];
  /** Sum of the layers' compressed sizes (what a first push sends). */
  readonly imageSize: number;
  /** Uncompressed bytes of all layers. */
  readonly uncompressedSize: number;
  readonly wastedBytes: number;
  /** One per scenario, in CompareReport.scenarios order. */
  readonly rebuilds: readonly CompareRebuild[];
}

export interface CompareReport {
  readonly schemaVersion: 1;
  /** The build context as given on the command line. */
  readonly context: string;
  readonly created: string;
  readonly variants: readonly CompareVariant[];
  readonly scenarios: readonly CompareScenario[];
}
