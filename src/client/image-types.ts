/**
 * The contract's image-store part (see types.ts for the rules every type here follows): listing,
 * naming, removing, history and inspect, import and load, registry pull, push and login.
 */
import type { InspectConfig } from '../oci/types.js';

/** How registries are reached. Resolved by the client from its flags and environment. */
export interface RegistryAccess {
  /** Registries (`host[:port]`) reached over plain HTTP; loopback ones always are. Default none. */
  readonly insecureRegistries?: readonly string[];
  /** PEM file of extra CA certificates to trust. Default: the system's only. */
  readonly caFile?: string;
  /**
   * The docker config directory holding credentials (`$DOCKER_CONFIG`, else `~/.docker`), as the
   * client resolved it. Default: the engine process's own.
   */
  readonly dockerConfigDir?: string;
}

/** What happened to one blob of a pull or push. */
export type TransferOutcome =
  /** Downloaded and verified. */
  | 'downloaded'
  /** Pull: the content store already had it. */
  | 'present'
  /** Push: uploaded. */
  | 'uploaded'
  /** Push: the registry already had it in this repository. */
  | 'exists'
  /** Push: mounted from another repository of the same registry. */
  | 'mounted';

export type TransferEvent =
  /** Bytes moved so far for one blob (`current` of `total`); `current` may go back to 0 when a download restarts. */
  | { readonly kind: 'progress'; readonly digest: string; readonly mediaType: string; readonly current: number; readonly total: number }
  /** A blob is done: `size` bytes, and how (`outcome`). */
  | { readonly kind: 'done'; readonly digest: string; readonly mediaType: string; readonly size: number; readonly outcome: TransferOutcome };

/** One name in the local image store. */
export interface ImageRecord {
  /** Full reference (`docker.io/library/app:latest`). */
  readonly name: string;
  /** Digest of the image manifest the name points at. */
  readonly manifestDigest: string;
  /** The image ID: digest of the image config. */
  readonly configDigest: string;
  /** Media type of the manifest (OCI or Docker schema 2). */
  readonly mediaType: string;
  /** When the name was first written (ms since the epoch). */
  readonly createdAt: number;
  /** When the name last moved (ms since the epoch). */
  readonly updatedAt: number;
}

/** One row of `tsbuild images`. */
export interface ImageSummary {
  /** Full reference (`docker.io/library/app:latest`); absent for an untagged image. */
  readonly name?: string;
  /** As docker shows it: `app`, `myorg/app`, `<none>`. */
  readonly repository: string;
  /** Tag, or `<none>`. */
  readonly tag: string;
  /** Image ID: the config digest (`sha256:…`). */
  readonly id: string;
  /** Digest of the image manifest. */
  readonly manifestDigest: string;
  /** The config's `created` (ISO 8601), when set. */
  readonly created?: string;
  /** Bytes of file content in all layers (uncompressed), as `docker images` counts them. */
  readonly size: number;
  /** The image's RepoDigest digest in this row's repository (after a push or pull), as docker's DIGEST column. */
  readonly digest?: string;
  /** A multi-platform image's platforms (`linux/amd64`…), in index order; absent for one manifest. */
  readonly platforms?: readonly string[];
}

/** An image named the docker way: `app`, `app:1`, `app@sha256:…`, or an image ID (or a unique prefix of one). */
export interface ImageRef {
  readonly name: string;
}

export interface RemoveImageRequest {
  /** A name, `name@digest`, or an image ID (or a unique prefix of one). */
  readonly name: string;
  /** Remove every name of an image given by ID, even when there are several. Default false. */
  readonly force?: boolean;
}

/** What `rmi` did for one reference. */
export interface RemovedImage {
  /** Names removed (full references). */
  readonly untagged: readonly string[];
  /** The image ID when its last name went, then the blobs deleted with it. */
  readonly deleted: readonly string[];
}

export interface TagImageRequest {
  /** The image: a name, `name@digest`, or an image ID (or a unique prefix of one). */
  readonly source: string;
  /** The new name (`app:2`, `registry.lan:5000/team/app:1`). */
  readonly target: string;
}

/** One row of `tsbuild history`, newest first. */
export interface HistoryRow {
  /** The image ID on the top row, `<missing>` on the others, as docker shows for pulled images. */
  readonly id: string;
  /** The history entry's `created` (ISO 8601), when set. */
  readonly created?: string;
  /** The instruction that made the row (`RUN make`), empty when unknown. */
  readonly createdBy: string;
  /** Bytes of file content in the row's layer (uncompressed), 0 for empty layers. */
  readonly size: number;
  /** The history entry's comment, or empty. */
  readonly comment: string;
  /** True for rows that changed no files (ENV, CMD…). */
  readonly emptyLayer: boolean;
  /** diff_id of the row's layer; absent for empty layers. */
  readonly layer?: string;
}

/** overlay2 directories of a snapshot, as `docker inspect` shows them. */
export interface GraphDriverData {
  /** The lower layers, top first, colon-separated; absent for a one-layer image. */
  readonly LowerDir?: string;
  readonly UpperDir: string;
  readonly MergedDir: string;
  readonly WorkDir: string;
}

/** `tsbuild inspect IMAGE`: the fields `docker inspect` shows for an image, in its spelling. */
export interface ImageInspect {
  /** Image ID (config digest). */
  readonly Id: string;
  /** Familiar names (`app:1`) pointing at the image. */
  readonly RepoTags: readonly string[];
  /** `repository@manifest digest` for every repository naming the image. */
  readonly RepoDigests: readonly string[];
  /** Always empty (images here have no parent image IDs). */
  readonly Parent: string;
  /** The config's comment, else the last history comment. */
  readonly Comment: string;
  /** The config's `created` (ISO 8601), when set. */
  readonly Created?: string;
  /** Always empty. */
  readonly DockerVersion: string;
  readonly Author: string;
  /** The image config's `config` member (Env, Cmd, Entrypoint, Labels…). */
  readonly Config: InspectConfig;
  readonly Architecture: string;
  readonly Variant?: string;
  readonly Os: string;
  /** Bytes of file content in all layers (uncompressed). */
  readonly Size: number;
  /** Same as Size. */
  readonly VirtualSize: number;
  /** overlay2 directories of the image's top snapshot (unpacked on demand); Data null without layers. */
  readonly GraphDriver: { readonly Name: 'overlay2'; readonly Data: GraphDriverData | null };
  /** diff_ids of the layers, bottom first. */
  readonly RootFS: { readonly Type: 'layers'; readonly Layers: readonly string[] };
  /** LastTagTime: when the name last moved (ISO 8601). */
  readonly Metadata: { readonly LastTagTime: string };
  /** A multi-platform image's platforms; the other fields describe its linux/amd64 (else first) image. */
  readonly Platforms?: readonly string[];
}

export interface ImportRequest {
  /** A rootfs tarball (plain or compressed) or directory on the client, or `-` for the call's `input`. */
  readonly source: string;
  /** The image's name. */
  readonly name: string;
  /** The history comment. Default `Imported from SOURCE`. */
  readonly message?: string;
  /** The platform the config records (`linux/arm64`, like `docker import --platform`). Default: the engine's. */
  readonly platform?: string;
}

export interface LoadRequest {
  /** An archive path on the client, or `-` for the call's `input`. */
  readonly source: string;
}

/** One image a load put into the store (one per name; untagged images once, without a name). */
export interface LoadedImage {
  /** Full reference; absent for an untagged image. */
  readonly name?: string;
  readonly manifestDigest: string;
  /** The image ID. */
  readonly configDigest: string;
}

export interface SaveRequest {
  /** Images to save: names (`app`, `app:1`) or image IDs (or unique prefixes), as `docker save`. */
  readonly names: readonly string[];
}

/** One image a save wrote (by name: with the name; by ID: untagged, without one). */
export interface SavedImage {
  readonly name?: string;
  readonly manifestDigest: string;
  /** The image ID. */
  readonly configDigest: string;
}

export interface PullRequest {
  /** Image reference (`alpine:3.19`, `host:5000/team/app@sha256:…`). */
  readonly ref: string;
  /** `os/arch[/variant]` picked from a multi-platform image. Default linux/amd64. */
  readonly platform?: string;
  readonly registry?: RegistryAccess;
}

/** One layer of a pull. */
export interface PulledLayer {
  readonly digest: string;
  /** Bytes of the (compressed) blob. */
  readonly size: number;
  /** `downloaded`, or `present` when the content store already had it. */
  readonly outcome: 'downloaded' | 'present';
}

export interface PullSummary {
  /** The full name written to the store (`docker.io/library/alpine:3.19`). */
  readonly name: string;
  /** What the reference resolved to at the registry (an index digest for multi-platform images). */
  readonly digest: string;
  /** The platform's image manifest, as stored. */
  readonly manifestDigest: string;
  readonly configDigest: string;
  readonly layers: readonly PulledLayer[];
  /** True when the name already pointed at this manifest. */
  readonly upToDate: boolean;
}

export interface PushRequest {
  /** The local image's name; it is pushed to the registry that name designates. */
  readonly name: string;
  readonly registry?: RegistryAccess;
}

export interface PushSummary {
  /** The full name pushed. */
  readonly name: string;
  /** Manifest digest the registry now serves for the name. */
  readonly digest: string;
  /** Bytes of the manifest. */
  readonly size: number;
  /** Every blob (layers, config) and what the push did with it. */
  readonly blobs: readonly { readonly digest: string; readonly outcome: TransferOutcome }[];
}

export interface LoginRequest {
  /** Registry `host[:port]` (scheme and path are dropped). Default Docker Hub. */
  readonly server?: string;
  readonly username: string;
  readonly password: string;
  /** Transport for the check, and where credentials are saved (`dockerConfigDir`). */
  readonly registry?: RegistryAccess;
}

export interface LoginResult {
  /** The registry as saved (`docker.io` for Docker Hub). */
  readonly domain: string;
  /** The docker config file written. */
  readonly configPath: string;
  /** The credential helper (`docker-credential-NAME`) holding the secret, when one is configured. */
  readonly helper?: string;
}

export interface LogoutRequest {
  /** Registry `host[:port]`. Default Docker Hub. */
  readonly server?: string;
  /** Where credentials are saved (`dockerConfigDir`). */
  readonly registry?: RegistryAccess;
}

export interface LogoutResult {
  /** False when there were no saved credentials. */
  readonly removed: boolean;
}
