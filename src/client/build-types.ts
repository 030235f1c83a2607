/**
 * The contract's build part (see types.ts for the rules every type here follows): a build request
 * and its result, the `parse` and `llb` Dockerfile tools, and what the engine says about itself.
 */
import type { SourceLocation } from '../util/errors.js';
import type { PushSummary, RegistryAccess } from './image-types.js';
import type { ExtraHostEntry } from '../util/extra-host.js';
import type { UlimitEntry } from '../util/ulimit.js';

/** A Dockerfile as the client read it. */
export interface DockerfileSource {
  /** The name as the user gave it (`Dockerfile`, `sub/Dockerfile.dev`); error locations use it. */
  readonly name: string;
  /** Absolute path on the client, for `<Dockerfile>.dockerignore`; absent when read from stdin. */
  readonly path?: string;
  /** The file's bytes, base64-encoded (a Dockerfile need not be valid UTF-8). */
  readonly content: string;
}

/**
 * One `--output` (`type=oci,dest=out.tar`). Outputs that write files (`oci`, `docker`, `tar`,
 * `local`) name client-side destinations: the embedded engine writes them directly; over gRPC the
 * daemon streams them back for the client to write. `dest=-` goes to the call's `stdout` sink.
 */
export interface OutputSpec {
  /** `image`, `oci`, `docker`, `local`, `tar`, or `registry` (an image output with push=true). */
  readonly type: string;
  /** The other `key=value` pairs as given (`dest`, `name`, `push`…). */
  readonly attrs: Readonly<Record<string, string>>;
}

/** `min`: only records whose result is part of the final image; `max`: every step of every stage. */
export type CacheMode = 'min' | 'max';

/** One `--cache-to` value. */
export type CacheExportSpec =
  | {
      readonly kind: 'registry';
      /** Where the cache manifest is pushed (`host/repo:tag`). */
      readonly ref: string;
      readonly mode: CacheMode;
      /** Export failures become warnings. */
      readonly ignoreError: boolean;
      /**
       * The cache's layer blobs as buildx's `compression=gzip|zstd|uncompressed`,
       * `compression-level=N`, `force-compression=true` give them (default gzip); the engine checks
       * them as it checks `-o`'s.
       */
      readonly compression?: string;
      readonly compressionLevel?: string;
      readonly forceCompression?: boolean;
    }
  | {
      readonly kind: 'local';
      /** An OCI layout directory on the client (created when missing; other entries of its index are kept). */
      readonly dest: string;
      readonly mode: CacheMode;
      /** `org.opencontainers.image.ref.name` of the cache manifest in index.json. */
      readonly tag: string;
      readonly ignoreError: boolean;
      /**
       * The cache's layer blobs as buildx's `compression=gzip|zstd|uncompressed`,
       * `compression-level=N`, `force-compression=true` give them (default gzip); the engine checks
       * them as it checks `-o`'s.
       */
      readonly compression?: string;
      readonly compressionLevel?: string;
      readonly forceCompression?: boolean;
    }
  /** Cache metadata inside the image config of the image outputs (always mode=min). */
  | { readonly kind: 'inline' };

/** One `--cache-from` value. */
export type CacheImportSpec =
  | {
      /** A cache manifest pushed by `--cache-to type=registry`, or an image with inline cache. */
      readonly kind: 'registry';
      readonly ref: string;
    }
  | {
      readonly kind: 'local';
      /** An OCI layout directory on the client, written by `--cache-to type=local`. */
      readonly src: string;
      /** Which manifest of the index: by `org.opencontainers.image.ref.name`. */
      readonly tag: string;
      /** Or by manifest digest (wins over tag). */
      readonly digest?: string;
    };

/** One `--add-host` entry: `ip` is an IPv4 or IPv6 address. */
export type ExtraHost = ExtraHostEntry;

export interface BuildRequest {
  /** The build context directory on the client (a stdin tarball is unpacked by the client first). */
  readonly contextDir: string;
  readonly dockerfile: DockerfileSource;
  /** The stage to build. Default: the last one. */
  readonly target?: string;
  /** `--build-arg` values, after the client resolved bare names and SOURCE_DATE_EPOCH from its environment. */
  readonly buildArgs: Readonly<Record<string, string>>;
  /** `--label` values for the image config. */
  readonly labels: Readonly<Record<string, string>>;
  /** `--no-cache`: run every step. */
  readonly noCache: boolean;
  /** `--no-cache-filter`: run every step of these stages. */
  readonly noCacheFilter: readonly string[];
  /** Target platform (`linux/amd64`). Default: the engine's. */
  readonly platform?: string;
  /**
   * Several target platforms (`--platform linux/amd64,linux/arm64`): one solve each, sharing the
   * steps that do not depend on the target, and one image index. Wins over `platform`.
   */
  readonly platforms?: readonly string[];
  /** Network for RUN steps without --network (`default` is the host's, as in BuildKit). */
  readonly network: 'default' | 'none' | 'host';
  /**
   * `--build-context NAME=VALUE`, as buildx's named contexts: `docker-image://REF` (`scratch`: the
   * empty image), a Git or HTTP(S) URL, or a directory's absolute path on the client. A stage named
   * NAME is replaced by it; FROM, `COPY --from` and `RUN --mount from=` naming NAME read it. Default none.
   */
  readonly namedContexts?: Readonly<Record<string, string>>;
  /** `--ulimit NAME=SOFT[:HARD]`: every RUN step's resource limits (and part of its cache key). Default none. */
  readonly ulimits?: readonly UlimitEntry[];
  /** `--shm-size`: every RUN step's /dev/shm is a tmpfs of this many bytes (part of its cache key). Default: 64 MiB, unkeyed. */
  readonly shmSize?: number;
  /**
   * `--add-host HOST:IP`, in order: written to every RUN step's /etc/hosts after the loopback
   * lines, and part of each RUN step's cache key. Default none.
   */
  readonly extraHosts?: readonly ExtraHost[];
  /** `--ssh`: agent socket paths on the client, by id (`default`…). */
  readonly ssh: Readonly<Record<string, string>>;
  /** `-t` names as given. */
  readonly tags: readonly string[];
  /** `--output`s; none with tags means one image output. */
  readonly outputs: readonly OutputSpec[];
  /** `--allow security.insecure`: RUN --security=insecure may run. Default false. */
  readonly allowInsecure?: boolean;
  /**
   * `--allow network.host`: `RUN --network=host` may run. Implied by `network: 'host'` (as buildx
   * adds the entitlement for `--network host`). Default false.
   */
  readonly allowNetworkHost?: boolean;
  /** `--pull`: resolve every base image at its registry (downloading it when it changed). Default false. */
  readonly pull?: boolean;
  /** `--push`: push the image to each of its names' registries (as `-o type=image,push=true`). Default false. */
  readonly push?: boolean;
  /** `--cache-from`: caches to import (metadata now, blobs when a result is used). Default none. */
  readonly cacheFrom?: readonly CacheImportSpec[];
  /** `--cache-to`: where to export this build's cache. Default none. */
  readonly cacheTo?: readonly CacheExportSpec[];
  /** How registries are reached (base images, pushes, remote caches). */
  readonly registry?: RegistryAccess;
  /**
   * Names the build where other builds wait on its steps ("waiting for the same step in build
   * REF"); a daemon uses its Solve ref (the one `tsbuild builds` lists). Default: unnamed.
   */
  readonly ref?: string;
  /**
   * Which Dockerfile this is for the build history (earlier builds of it explain misses). Default:
   * the Dockerfile's absolute path; the daemon names it by the client's context key and file name.
   */
  readonly historyKey?: string;
  /**
   * Names the content of `contextDir`: the same directory and version promise the same files, so
   * the engine may reuse context checksums instead of walking it again (the daemon passes its
   * synced copy's listing digest). Not sent over Solve. Default: always walked.
   */
  readonly contextVersion?: string;
  /**
   * With contextVersion: the earlier version of the context directory this one differs from only
   * at `paths` (root-relative entries written, changed or removed; nothing beneath a listed path
   * changed unless listed too; no directory came, went or changed kind), so that its checksums
   * are updated at those paths. Not sent over Solve (the daemon passes its journal's delta).
   */
  readonly contextChanges?: { readonly from: string; readonly paths: readonly string[] };
  /**
   * Regular files of the context directory may be hard-linked into layers instead of copied: its
   * writer never changes a file in place while it has other links, and no two of its paths are
   * links of one file (the daemon's synced copies). Not sent over Solve. Default false.
   */
  readonly contextLinkable?: boolean;
}

/** Why a step ran instead of coming from the cache. */
export type MissReason =
  | { readonly kind: 'no-record' }
  | { readonly kind: 'ignore-cache' }
  /** Input number `input` (named `inputName`) changed. */
  | { readonly kind: 'input-changed'; readonly input: number; readonly inputName: string }
  | { readonly kind: 'result-missing' };

/**
 * How a step ended: `cached` (a cache record answered), `executed` (the op ran), `skipped` (no
 * record but nothing needed the result), `failed`, `canceled`.
 */
export type StepOutcome = 'cached' | 'executed' | 'skipped' | 'failed' | 'canceled';

/** One step (vertex) of a build. */
export interface BuildStep {
  /** The vertex digest; progress events refer to it. */
  readonly digest: string;
  /** Display name (`[2/3] COPY a.txt /a.txt`). */
  readonly name: string;
  readonly outcome: StepOutcome;
  /** The persistent cache key, when it was computed. */
  readonly cacheKey?: string;
  /** Why the step ran (steps that ran only). */
  readonly missReason?: MissReason;
  /** The same, as the one line progress output and `--metadata-file` show. */
  readonly cacheMiss?: string;
  /** When the step started and completed (ms since the epoch), when it did. */
  readonly started?: number;
  readonly completed?: number;
  /** Milliseconds the op ran (0 for cache hits). */
  readonly durationMs: number;
}

export interface BuildSummary {
  /** Steps in the build, and how many ended each way. */
  readonly total: number;
  readonly cached: number;
  readonly executed: number;
  readonly skipped: number;
  readonly failed: number;
  readonly canceled: number;
  /** When the solve started and completed (ms since the epoch). */
  readonly started: number;
  readonly completed: number;
  readonly durationMs: number;
  /** One record per step, in topological order (inputs first). */
  readonly steps: readonly BuildStep[];
}

/** What one output produced. */
export interface ExportResult {
  /** Manifest digest (`containerimage.digest`), for image-producing outputs. */
  readonly imageDigest?: string;
  /** Config digest: the image ID (what `-q` prints and `--iidfile` receives). */
  readonly configDigest?: string;
  /** Extra facts for `--metadata-file`. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A build warning (lint-style), with its Dockerfile location when known. */
export interface BuildWarning {
  /** Stable identifier (BuildKit check names where one exists). */
  readonly code: string;
  readonly message: string;
  readonly location?: SourceLocation;
}

/** What the remote cache did in one build (also in `--metadata-file`). */
export interface RemoteCacheReport {
  /** Per `--cache-from`: records offered, or why the cache could not be read. */
  readonly imported: readonly { readonly name: string; readonly records: number; readonly error?: string }[];
  /** Blobs and bytes downloaded from imported caches (lazily, for results the build used). */
  readonly downloadedBlobs: number;
  readonly downloadedBytes: number;
  /** Per `--cache-to`: where, the manifest digest written, records, or the error ignored. */
  readonly exported: readonly { readonly to: string; readonly digest?: string; readonly records: number; readonly error?: string }[];
}

export interface BuildResult {
  readonly summary: BuildSummary;
  /** One per output, in order. */
  readonly exports: readonly ExportResult[];
  /** Manifest digest of the first image output. */
  readonly imageDigest?: string;
  /** Config digest (image ID) of the first image output. */
  readonly configDigest?: string;
  readonly warnings: readonly BuildWarning[];
  /** Names pushed (`--push`, `push=true`), with the digest the registry serves. */
  readonly pushed: readonly PushSummary[];
  /** What `--cache-from` / `--cache-to` did. */
  readonly remoteCache: RemoteCacheReport;
}

/** What the engine is and can do. */
export interface EngineInfo {
  /** The engine's tsbuild version. */
  readonly version: string;
  /** Its data root. */
  readonly root: string;
  /** Kernel release of the engine's machine. */
  readonly kernel: string;
  /** The runc RUN steps use: its path and version, when found. */
  readonly runc: { readonly path?: string; readonly version?: string };
  /** The engine's platform (`linux/amd64`). */
  readonly platform: string;
  /**
   * Platforms RUN steps can run for on the engine's machine: its own first, then the ones its CPU
   * runs natively or a binfmt_misc emulator (qemu-user-static) runs (`linux/arm64`…).
   */
  readonly platforms: readonly string[];
  /** Snapshot storage. */
  readonly snapshotter: 'overlay2';
  /** Output types `--output type=` accepts. */
  readonly outputs: readonly string[];
  /** Stable feature names (`secrets`, `ssh`, `cache-export:registry`…). */
  readonly features: readonly string[];
  /** The build cache's automatic GC budget in bytes (pruned after builds to stay under it); 0: none. */
  readonly gcKeepStorage: number;
}

export interface ParseRequest {
  readonly dockerfile: DockerfileSource;
  /** `dump`: BuildKit's AST dump; `json`: typed instructions by stage; `ast`: the raw syntax tree. */
  readonly format: 'dump' | 'json' | 'ast';
}

export interface ParseResult {
  /** The rendered tree, ending in a newline. */
  readonly text: string;
  /** Parser warnings (line numbers 1-based). */
  readonly warnings: readonly { readonly line: number; readonly message: string }[];
}

export interface LlbRequest {
  /** The build context directory on the client (for `.dockerignore`). */
  readonly contextDir: string;
  readonly dockerfile: DockerfileSource;
  /** The stage to convert. Default: the last one. */
  readonly target?: string;
  /** Target platform. Default: the engine's. */
  readonly platform?: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  /** Mark every step to ignore the cache. */
  readonly noCache: boolean;
  /** Mark the steps of these stages to ignore the cache. */
  readonly noCacheFilter: readonly string[];
  /** `json`: every vertex decoded, the image config, stages, warnings; `dot`: Graphviz. */
  readonly format: 'json' | 'dot';
}

export interface LlbResult {
  /** The rendered graph, ending in a newline. */
  readonly text: string;
  readonly warnings: readonly BuildWarning[];
}
