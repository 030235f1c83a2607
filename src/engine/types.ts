/**
 * The engine's API: what each Engine method takes and returns. Every request and response is plain
 * data (strings, numbers, booleans, arrays, plain objects; digests as strings, byte counts as
 * numbers, times as ISO strings or epoch ms), so that the client contract (src/client/types.ts) can
 * mirror it type for type and a gRPC daemon can carry it. What cannot be data — the AbortSignal,
 * listeners, byte streams, the secret lookup — sits in the per-call option objects.
 *
 * The engine does not import the client: the client owns the contract and the engine owns these
 * signatures; test/client/contract-types.test.ts proves that the two stay identical, so each
 * field is documented once, on its twin in src/client/*-types.ts. Types that lower layers already
 * define as plain data (du, prune, check, transfer events) are used as they are.
 */
import type { CacheExportSpec, CacheImportSpec } from '../cache/remote/types.js';
import type { CheckReport, RecordType, RepairReport } from '../cache/types.js';
import type { SourceLocation } from '../util/errors.js';
import type { MissReason, StepOutcome } from '../solver/types.js';
import type { PushSummary } from './image-types.js';
import type { RegistryAccess } from './call-types.js';
import type { UlimitEntry } from '../util/ulimit.js';
import type { ExtraHostEntry } from '../util/extra-host.js';

export type {
  CallOptions, SecretLookup, ByteSink, RegistryCredentials, CredentialLookup, BuildOptions, ReceivingBuildOptions, InputOptions, TransferOptions, RegistryAccess,
} from './call-types.js';

// ---------------------------------------------------------------------------------------------
// Build

export interface DockerfileSource {
  readonly name: string;
  readonly path?: string;
  /** base64. */
  readonly content: string;
}

/** Engine.buildReceiving's request (no client twin): a BuildRequest, with the ignore file's text when the caller has it. */
export interface ReceivingBuildRequest extends BuildRequest {
  /**
   * The ignore file's text ('' for none): no ignore file is read (tsbuildd: its copy of the context
   * may still hold an old one while it syncs, and a file written for the engine to read cost a
   * directory made and removed per build).
   */
  readonly dockerignore?: string;
}

export interface OutputSpec {
  readonly type: string;
  readonly attrs: Readonly<Record<string, string>>;
}

export interface BuildRequest {
  readonly contextDir: string;
  readonly dockerfile: DockerfileSource;
  readonly target?: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly noCache: boolean;
  readonly noCacheFilter: readonly string[];
  readonly platform?: string;
  /** Several target platforms (`--platform linux/amd64,linux/arm64`): one image index. Wins over `platform`. */
  readonly platforms?: readonly string[];
  readonly network: 'default' | 'none' | 'host';
  /**
   * `--build-context NAME=VALUE`: `docker-image://REF`, a Git or HTTP(S) URL, or a directory's
   * absolute path (src/engine/named-contexts.ts). Default none.
   */
  readonly namedContexts?: Readonly<Record<string, string>>;
  /** `--ulimit` entries for every RUN step (and its cache key). */
  readonly ulimits?: readonly UlimitEntry[];
  /** `--shm-size` in bytes: every RUN step's /dev/shm (and its cache key). */
  readonly shmSize?: number;
  /** `--add-host HOST:IP` entries for every RUN step's /etc/hosts (and its cache key). */
  readonly extraHosts?: readonly ExtraHostEntry[];
  readonly ssh: Readonly<Record<string, string>>;
  readonly tags: readonly string[];
  readonly outputs: readonly OutputSpec[];
  readonly allowInsecure?: boolean;
  readonly allowNetworkHost?: boolean;
  readonly pull?: boolean;
  readonly push?: boolean;
  readonly cacheFrom?: readonly CacheImportSpec[];
  readonly cacheTo?: readonly CacheExportSpec[];
  readonly registry?: RegistryAccess;
  readonly ref?: string;
  /**
   * Which Dockerfile this is for the build history (earlier builds of it explain misses). Default:
   * the Dockerfile's absolute path; the daemon names it by the client's context key and file name.
   */
  readonly historyKey?: string;
  /**
   * Names the content of `contextDir`: builds that give the same directory and the same version
   * promise identical files there (modes, owners and contents), so the engine may reuse the
   * context checksums it computed for an earlier one instead of walking the directory again. The
   * daemon passes the digest of the listing its synced copy equals; absent: always walked.
   */
  readonly contextVersion?: string;
  /**
   * With contextVersion: the earlier version of `contextDir` this one differs from only at `paths`
   * (root-relative entries written, changed or removed; nothing beneath a listed path changed
   * unless listed too; no directory came, went or changed kind). The context checksums of the
   * earlier version are then updated at those paths instead of walking the directory again.
   */
  readonly contextChanges?: { readonly from: string; readonly paths: readonly string[] };
  /**
   * Regular files of `contextDir` may be hard-linked into layers instead of copied: whoever writes
   * the directory never changes a file in place while it has other links (new content is a new
   * file, and a file with other links gets its own inode before its mode, owner or times change),
   * and no two of its paths are links of one file. The daemon's synced copies promise this
   * (solve-context-sync.ts, context-copy-detach.ts); a user's own directory does not. Default false.
   */
  readonly contextLinkable?: boolean;
}

/**
 * What the caller of Engine.buildReceiving learns once the context directory it was still filling
 * is complete: the version it vouches for (BuildRequest.contextVersion, contextChanges).
 */
export type ReceivedContext = Pick<BuildRequest, 'contextVersion' | 'contextChanges'>;

export interface BuildStep {
  readonly digest: string;
  readonly name: string;
  readonly outcome: StepOutcome;
  readonly cacheKey?: string;
  readonly missReason?: MissReason;
  readonly cacheMiss?: string;
  readonly started?: number;
  readonly completed?: number;
  readonly durationMs: number;
}

export interface BuildSummary {
  readonly total: number;
  readonly cached: number;
  readonly executed: number;
  readonly skipped: number;
  readonly failed: number;
  readonly canceled: number;
  readonly started: number;
  readonly completed: number;
  readonly durationMs: number;
  readonly steps: readonly BuildStep[];
}

export interface ExportResult {
  readonly imageDigest?: string;
  readonly configDigest?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface BuildWarning {
  readonly code: string;
  readonly message: string;
  readonly location?: SourceLocation;
}

export interface RemoteCacheReport {
  readonly imported: readonly { readonly name: string; readonly records: number; readonly error?: string }[];
  readonly downloadedBlobs: number;
  readonly downloadedBytes: number;
  readonly exported: readonly { readonly to: string; readonly digest?: string; readonly records: number; readonly error?: string }[];
}

export interface BuildResult {
  readonly summary: BuildSummary;
  readonly exports: readonly ExportResult[];
  readonly imageDigest?: string;
  readonly configDigest?: string;
  readonly warnings: readonly BuildWarning[];
  readonly pushed: readonly PushSummary[];
  readonly remoteCache: RemoteCacheReport;
}

export type {
  ImageRecord,
  ImageSummary,
  ImageRef,
  RemoveImageRequest,
  RemovedImage,
  TagImageRequest,
  HistoryRow,
  GraphDriverData,
  ImageInspect,
  ImportRequest,
  LoadRequest,
  LoadedImage,
  SaveRequest,
  SavedImage,
  OutputOptions,
  PullRequest,
  PulledLayer,
  PullSummary,
  PushRequest,
  PushSummary,
} from './image-types.js';

// ---------------------------------------------------------------------------------------------
// Cache maintenance

export interface DiskUsageRequest {
  readonly verbose?: boolean;
}

export interface PruneRequest {
  readonly all?: boolean;
  readonly keepStorage?: number;
  readonly keepDuration?: number;
  readonly filters?: { readonly type?: readonly RecordType[]; readonly description?: string };
}

export interface CheckRequest {
  readonly deep?: boolean;
}

export interface CheckResult extends CheckReport {
  readonly recovered: readonly string[];
}

export interface RepairResult extends RepairReport {
  /** What opening the engine recovered from crashed processes first, one line each. */
  readonly recovered: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Engine facts, Dockerfile tools, registry login

export interface EngineInfo {
  readonly version: string;
  readonly root: string;
  readonly kernel: string;
  readonly runc: { readonly path?: string; readonly version?: string };
  readonly platform: string;
  /** Platforms RUN steps can run for here: the host's, then the ones its CPU or an emulator runs. */
  readonly platforms: readonly string[];
  readonly snapshotter: 'overlay2';
  readonly outputs: readonly string[];
  readonly features: readonly string[];
  /** The build cache's automatic GC budget in bytes (the largest of its rules'); 0: none. */
  readonly gcKeepStorage: number;
}

export interface ParseRequest {
  readonly dockerfile: DockerfileSource;
  readonly format: 'dump' | 'json' | 'ast';
}

export interface ParseResult {
  readonly text: string;
  readonly warnings: readonly { readonly line: number; readonly message: string }[];
}

export interface LlbRequest {
  readonly contextDir: string;
  readonly dockerfile: DockerfileSource;
  readonly target?: string;
  readonly platform?: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly noCache: boolean;
  readonly noCacheFilter: readonly string[];
  readonly format: 'json' | 'dot';
}

export interface LlbResult {
  readonly text: string;
  readonly warnings: readonly BuildWarning[];
}

export interface LoginRequest {
  readonly server?: string;
  readonly username: string;
  readonly password: string;
  readonly registry?: RegistryAccess;
}

export interface LoginResult {
  readonly domain: string;
  readonly configPath: string;
  readonly helper?: string;
}

export interface LogoutRequest {
  readonly server?: string;
  readonly registry?: RegistryAccess;
}

export interface LogoutResult {
  readonly removed: boolean;
}
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
