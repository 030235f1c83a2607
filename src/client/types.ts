/**
 * The client contract: the one `Client` interface every front end (the CLI, CI runners) talks to,
 * and the requests and responses it carries. The embedded client runs the engine in this process;
 * the gRPC client (tsbuildd, proto/control.proto) implements the same interface, so every command
 * behaves the same against either.
 *
 * Requests and responses are plain, serialisable data: strings, numbers, booleans, arrays and plain
 * objects (JSON round-trips them unchanged). Digests are `sha256:…` strings, byte counts numbers,
 * times ISO 8601 strings or milliseconds since the epoch as each field says. Paths in a request
 * are the client's paths (context, Dockerfile, output destinations, agent sockets): the embedded
 * engine uses them as they are; a remote transport moves the bytes (uploads the context, streams
 * outputs back, forwards agent connections).
 *
 * What cannot be data lives in the per-call option objects, shaped so a wire can carry it: the
 * AbortSignal (a cancelled call), listeners receiving plain events (a server stream), a secret
 * lookup the engine calls back when a RUN mounts a secret (values never leave the client unasked),
 * byte sources as `AsyncIterable<Uint8Array>` (a client stream), and a byte sink for `dest=-`
 * outputs (a server stream).
 *
 * Errors cross as `WireError` (src/client/wire-error.ts turns engine errors into it and back), so a
 * Dockerfile error prints the same — location and caret — whichever client raised it.
 *
 * Ownership: this file owns the contract. The engine does not import it; it defines the same
 * shapes for its own methods (src/engine/types.ts), and test/client/contract-types.test.ts checks
 * that each request, response and option type here is mutually assignable with the engine's, so
 * the embedded client stays a pass-through and nothing the engine returns is lost on a wire.
 * Besides its own types the contract uses the progress events (src/progress/types.ts: plain data,
 * a leaf every layer may use), the source location of util's errors, and the OCI image-config
 * shape (src/oci/types.ts: pure data every layer may use). The request and response types sit in
 * build-types.ts, image-types.ts and cache-types.ts beside this file, re-exported here so callers
 * import the contract from one place.
 */
import type { ProgressEvent } from '../progress/types.js';
import type { SourceLocation } from '../util/errors.js';
import type { BuildRequest, BuildResult, EngineInfo, LlbRequest, LlbResult, ParseRequest, ParseResult } from './build-types.js';
import type {
  HistoryRow, ImageInspect, TransferEvent, ImageRecord, ImageRef, ImageSummary, ImportRequest, LoadRequest, LoadedImage, LoginRequest, LoginResult,
  LogoutRequest, LogoutResult, PullRequest, PullSummary, PushRequest, PushSummary, RemoveImageRequest, RemovedImage, SaveRequest, SavedImage,
  TagImageRequest,
} from './image-types.js';
import type { CheckRequest, CheckResult, DiskUsage, DiskUsageRequest, PruneRequest, PruneResult, RepairReport } from './cache-types.js';
import type { AttachRequest, RunningBuildSummary } from './running-build-types.js';
import type { BuildHistoryRequest, PastBuild } from './build-history-types.js';

/** The contract's request and response types, one file per area; import them from here. */
export type * from './build-types.js';
export type * from './image-types.js';
export type * from './cache-types.js';
export type * from './running-build-types.js';
export type * from './build-history-types.js';
export { RECORD_TYPES } from './cache-types.js';

// ---------------------------------------------------------------------------------------------
// Per-call options (not data: the signal, listeners, byte streams, the secret lookup)

export interface CallOptions {
  /** Cancels the call; the engine stops, cleans up and rejects with a CANCELLED error. */
  readonly signal: AbortSignal;
}

/**
 * Looks a build secret up by id, on the client's side, when a RUN step mounts it. Resolves to the
 * value, or undefined when the client has no such secret (an error only for `required` mounts).
 */
export type SecretLookup = (id: string, signal: AbortSignal) => Promise<Uint8Array | undefined>;

/**
 * Credentials for one registry host, as plain data: the four forms a docker config holds. Secret
 * values: never logged, never put in messages.
 */
export type RegistryCredentials =
  | { readonly kind: 'anonymous' }
  /** Username and password (or personal access token), sent as Basic or traded for a Bearer token. */
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  /** An OAuth2 refresh token (`identitytoken` in config.json), traded for access tokens. */
  | { readonly kind: 'identity-token'; readonly token: string; readonly username?: string }
  /** A bearer token used as it is (`registrytoken` in config.json). */
  | { readonly kind: 'registry-token'; readonly token: string };

/**
 * Looks up credentials for a registry host (`docker.io`, `127.0.0.1:5000`) on the client's side,
 * when the engine needs them (a remote daemon asks its client, as BuildKit's auth session does).
 * Resolves to `{kind: 'anonymous'}` when the client has none; the engine then uses its own docker
 * config. Without a lookup the engine reads `registry.dockerConfigDir`.
 */
export type CredentialLookup = (host: string, signal: AbortSignal) => Promise<RegistryCredentials>;

/** Receives the bytes of a `dest=-` output, in order; each write resolves once the bytes are taken. */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
}

export interface BuildCallOptions extends CallOptions {
  /** Every progress event of the build, in order, as plain data. Must not throw or block. */
  readonly onProgress?: (event: ProgressEvent) => void;
  /**
   * The caller shows progress only when the build fails (`--quiet`): a daemon may then hold the
   * events back and deliver them all, in order, just before the failure, and none for a build that
   * succeeds. Default false: every event as it happens.
   */
  readonly progressOnFailure?: boolean;
  /** Where `--secret` values come from. Default: no secrets. */
  readonly secrets?: SecretLookup;
  /** Where outputs with `dest=-` are written (the client's standard output). Default: none (such an output fails). */
  readonly stdout?: ByteSink;
  /** Where registry credentials come from. Default: the docker config at `registry.dockerConfigDir`. */
  readonly credentials?: CredentialLookup;
}

/** `attach`: the attached build's progress (replayed from its beginning, then live). */
export interface AttachCallOptions extends CallOptions {
  /** Every progress event of the build, in order, as plain data. Must not throw or block. */
  readonly onProgress?: (event: ProgressEvent) => void;
}

/** Calls that write an archive to the client (`tsbuild save`). */
export interface OutputCallOptions extends CallOptions {
  /** Receives the archive's bytes, in order. */
  readonly output: ByteSink;
}

/** Calls that can read an archive from the client's standard input (`image load -`, `image import -`). */
export interface InputCallOptions extends CallOptions {
  /** The bytes a `-` source stands for. Read only when the request's source is `-`. */
  readonly input?: AsyncIterable<Uint8Array>;
  /** How messages name `input` (a remote client's file name). Default `stdin`. */
  readonly inputLabel?: string;
}

/** Calls that move images to or from a registry report each blob's progress. */
export interface TransferCallOptions extends CallOptions {
  readonly onProgress?: (event: TransferEvent) => void;
  /** Where registry credentials come from. Default: the docker config at `registry.dockerConfigDir`. */
  readonly credentials?: CredentialLookup;
}

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * An error as it crosses the seam. `fromWireError` (wire-error.ts) rebuilds the Error class the CLI
 * prints, so output and exit code are the same whichever client raised it.
 */
export interface WireError {
  /** Which Error class: user input (exit 1), usage (exit 2), cancelled (exit 130), other tsbuild errors, or a bug. */
  readonly kind: 'user-input' | 'usage' | 'cancelled' | 'tsbuild' | 'internal';
  /** Stable machine-readable code (`DOCKERFILE_PARSE`, `IMAGE_NOT_FOUND`, `CANCELLED`…); `INTERNAL` for bugs. */
  readonly code: string;
  /** One line, without the location prefix. */
  readonly message: string;
  /** Where in a user's file the problem is. */
  readonly location?: SourceLocation;
  /** The offending source line, shown under the message with a caret at the column. */
  readonly sourceLine?: string;
  /** Lines shown after the message (e.g. the last log lines of a failed RUN). */
  readonly detail?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// The interface

export interface Client {
  /** Facts about the engine: version, data root, kernel, runc, platform, supported outputs and features. */
  info(opts: CallOptions): Promise<EngineInfo>;
  /** Builds a Dockerfile; progress streams to `opts.onProgress`, outputs land where the request says. */
  build(req: BuildRequest, opts: BuildCallOptions): Promise<BuildResult>;
  /**
   * `tsbuild builds`: the builds running now, oldest first. A daemon lists every client's; the
   * embedded engine's builds belong to their own process, so the embedded client lists none.
   */
  listBuilds(opts: CallOptions): Promise<RunningBuildSummary[]>;
  /**
   * `tsbuild attach REF`: follows a running build started by another client: its progress from the
   * beginning (replayed, then live) to `opts.onProgress`, and its result (or its error, thrown).
   * While attached, the build goes on when the client that started it goes away. Aborting the
   * signal only detaches. BUILD_NOT_FOUND when no build has that ref (always, embedded).
   */
  attach(req: AttachRequest, opts: AttachCallOptions): Promise<BuildResult>;
  /** `tsbuild parse`: the Dockerfile's syntax tree as text; nothing is built, no data root needed. */
  parse(req: ParseRequest, opts: CallOptions): Promise<ParseResult>;
  /** `tsbuild llb`: the Dockerfile converted to its LLB graph, as JSON or Graphviz dot. */
  llb(req: LlbRequest, opts: CallOptions): Promise<LlbResult>;

  /** `tsbuild images`: every stored image name with its ID, created time and size, newest first. */
  listImages(opts: CallOptions): Promise<ImageSummary[]>;
  /** Removes a name (or, by image ID, the image's names); deletes blobs no other image needs. */
  removeImage(req: RemoveImageRequest, opts: CallOptions): Promise<RemovedImage>;
  /** Gives an image another name (an existing name moves); returns the new name's record. */
  tagImage(req: TagImageRequest, opts: CallOptions): Promise<ImageRecord>;
  /** `tsbuild history`: the image's history rows, newest first. */
  history(req: ImageRef, opts: CallOptions): Promise<HistoryRow[]>;
  /** `tsbuild inspect`: the image's details in `docker inspect`'s shape. */
  inspect(req: ImageRef, opts: CallOptions): Promise<ImageInspect>;
  /** A root filesystem (tarball, directory, or `-` for `opts.input`) as a one-layer image. */
  importImage(req: ImportRequest, opts: InputCallOptions): Promise<ImageRecord>;
  /** `docker save` or OCI layout archives (a file, or `-` for `opts.input`); returns the images loaded. */
  loadImages(req: LoadRequest, opts: InputCallOptions): Promise<LoadedImage[]>;
  /** `tsbuild save`: images of the store as one `docker save` archive written to `opts.output`. */
  saveImages(req: SaveRequest, opts: OutputCallOptions): Promise<SavedImage[]>;
  /** `tsbuild pull`: an image from its registry into the local store (layers already stored are skipped). */
  pull(req: PullRequest, opts: TransferCallOptions): Promise<PullSummary>;
  /** `tsbuild push`: an image of the local store to the registry its name designates. */
  push(req: PushRequest, opts: TransferCallOptions): Promise<PushSummary>;
  /** `tsbuild login`: verifies credentials at the registry, then saves them in the client's docker config. */
  login(req: LoginRequest, opts: CallOptions): Promise<LoginResult>;
  /** `tsbuild logout`: removes saved credentials. */
  logout(req: LogoutRequest, opts: CallOptions): Promise<LogoutResult>;

  /**
   * `tsbuild history --why`: past builds with their steps (cached or executed, why, durations,
   * sizes), newest first. An unknown `buildId` fails with BUILD_NOT_FOUND.
   */
  buildHistory(req: BuildHistoryRequest, opts: CallOptions): Promise<PastBuild[]>;

  /** `tsbuild du`: what the build cache holds. */
  diskUsage(req: DiskUsageRequest, opts: CallOptions): Promise<DiskUsage>;
  /** `tsbuild prune`: removes build cache, least recently used first. */
  prune(req: PruneRequest, opts: CallOptions): Promise<PruneResult>;
  /**
   * `tsbuild cache check`: consistency of the data root. Reaching the engine first recovers what
   * crashed processes left (the recovery every engine start runs); `recovered` lists it.
   */
  check(req: CheckRequest, opts: CallOptions): Promise<CheckResult>;
  /** `tsbuild cache check --repair`: fixes what is safe to fix. */
  repair(req: CheckRequest, opts: CallOptions): Promise<RepairReport>;

  /** Releases the engine (embedded) or the connection (gRPC). Idempotent. */
  close(): Promise<void>;
}
