/**
 * Contracts of the distribution client. The registry layer stands alone: it stores nothing itself.
 * Pulled blobs go into a caller-supplied BlobSink, pushed blobs come from a BlobSource, and
 * credentials from a CredentialStore — the lead adapts the content store and the docker config to
 * them. Everything here is plain data or small interfaces; implementations live beside this file.
 */
import type { Readable, Writable } from 'node:stream';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from '../oci/types.js';
import type { Reference } from '../oci/reference.js';

export interface SignalOptions {
  readonly signal?: AbortSignal;
}

/** A platform to select from an index: os, architecture and optional variant. */
export interface PlatformSpec {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

// ---------------------------------------------------------------------------------------------
// Blob storage seams

export interface BlobWriterOptions extends SignalOptions {
  /** The digest the content must hash to. */
  readonly expected: string;
  /** The content's size in bytes (from the descriptor). */
  readonly size: number;
  /** The descriptor's media type, for stores that record it. */
  readonly mediaType?: string;
}

/**
 * A streaming write of one blob. The client writes the bytes (after verifying nothing yet), then
 * calls exactly one of commit() — the client has verified the digest; the sink makes the blob
 * visible atomically — or abort(), which must leave nothing behind. The writer is owned by the
 * client from writer() until commit/abort settles.
 */
export interface BlobWriter extends Writable {
  commit(): Promise<unknown>;
  abort(): Promise<void>;
}

/** Where pulled blobs (layers, configs, manifests, indexes) are stored, by digest. */
export interface BlobSink {
  /** True when the blob is already stored whole; the client then skips downloading it. */
  has(digest: string, opts?: SignalOptions): Promise<boolean>;
  writer(opts: BlobWriterOptions): BlobWriter | Promise<BlobWriter>;
}

export interface BlobOpenOptions extends SignalOptions {
  /** Byte offset to start at. Default 0. */
  readonly offset?: number;
}

/** Where pushed blobs (and the manifests/indexes being pushed) are read from, by digest. */
export interface BlobSource {
  /** A fresh stream of the blob's bytes from `offset`; the client consumes or destroys it. */
  open(digest: string, opts?: BlobOpenOptions): Promise<Readable>;
}

// ---------------------------------------------------------------------------------------------
// Credentials

export type Credentials =
  | { readonly kind: 'anonymous' }
  /** Username and password (or personal access token), sent as Basic or traded for a Bearer token. */
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  /** An OAuth2 refresh token (`identitytoken` in config.json), traded for access tokens. */
  | { readonly kind: 'identity-token'; readonly token: string; readonly username?: string }
  /** A bearer token used as-is (`registrytoken` in config.json). */
  | { readonly kind: 'registry-token'; readonly token: string };

/** Looks up credentials for a registry. */
export interface CredentialStore {
  /**
   * `domain` is the reference's registry (`docker.io`, `127.0.0.1:5000`). Resolves to
   * `{kind: 'anonymous'}` when nothing is configured; rejects only when a configured source fails.
   */
  get(domain: string, opts?: SignalOptions): Promise<Credentials>;
}

// ---------------------------------------------------------------------------------------------
// Progress

/** How a blob was handled. */
export type TransferOutcome =
  /** Downloaded and verified. */
  | 'downloaded'
  /** Pull: the sink already had it. */
  | 'present'
  /** Push: uploaded. */
  | 'uploaded'
  /** Push: the registry already had it in this repository. */
  | 'exists'
  /** Push: mounted from another repository of the same registry. */
  | 'mounted';

export type TransferEvent =
  /** Bytes moved so far for one blob; `current` may go back to 0 when a download restarts. */
  | { readonly kind: 'progress'; readonly digest: string; readonly mediaType: string; readonly current: number; readonly total: number }
  | { readonly kind: 'done'; readonly digest: string; readonly mediaType: string; readonly size: number; readonly outcome: TransferOutcome };

export type ProgressListener = (e: TransferEvent) => void;

// ---------------------------------------------------------------------------------------------
// Client options and operations

export interface RegistryClientOptions {
  /** Where credentials come from. Default: the docker config of `env` (`$DOCKER_CONFIG` or ~/.docker). */
  readonly credentials?: CredentialStore;
  /** Environment for the default credential store and helpers. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Registries (`host[:port]`) reached over plain HTTP. Loopback ones always are. */
  readonly insecureRegistries?: readonly string[];
  /** PEM file with extra CA certificates trusted besides the system ones. */
  readonly caFile?: string;
  /** Attempts after the first for 5xx, 429 and network failures. Default 3. */
  readonly retries?: number;
  /** First backoff delay; doubles each retry (with jitter). Default 250 ms. */
  readonly retryBaseMs?: number;
  /** Parallel blob transfers. Default 3. */
  readonly concurrency?: number;
  /**
   * Upload blobs bigger than this in PATCH chunks of this size (raised to the registry's
   * OCI-Chunk-Min-Length). Default: monolithic uploads.
   */
  readonly chunkSize?: number;
  /** Socket idle timeout. Default 60 s. */
  readonly timeoutMs?: number;
  /** Default `tsbuild/<version>`. */
  readonly userAgent?: string;
}

export interface PullOptions extends SignalOptions {
  readonly ref: string | Reference;
  readonly sink: BlobSink;
  /** Platform picked from an index / manifest list. Default linux/amd64. */
  readonly platform?: PlatformSpec;
  /**
   * `all` (default) stores config, manifests and layers; `none` stores config and manifests only
   * (for lazy pulls: fetch layers later with fetchBlob).
   */
  readonly layers?: 'all' | 'none';
  readonly onProgress?: ProgressListener;
}

export interface PullResult {
  /** The normalized reference that was pulled (`:latest` added when neither tag nor digest). */
  readonly ref: Reference;
  /** Digest the reference resolved to: the index's when it named an index, else the manifest's. */
  readonly digest: string;
  /** Present when the reference named an index / manifest list. */
  readonly index?: { readonly descriptor: Descriptor; readonly index: ImageIndex; readonly bytes: Buffer };
  /** The image manifest that was selected (platform included when it came from an index). */
  readonly manifestDescriptor: Descriptor;
  readonly manifest: ImageManifest;
  readonly manifestBytes: Buffer;
  readonly config: ImageConfig;
  readonly configBytes: Buffer;
  readonly layers: readonly Descriptor[];
  /** The image's platform (from the index entry, else the config). */
  readonly platform: Platform;
}

export interface FetchManifestResult {
  readonly ref: Reference;
  readonly descriptor: Descriptor;
  readonly bytes: Buffer;
  /** Discriminated by `kind`. */
  readonly parsed: { readonly kind: 'index'; readonly index: ImageIndex } | { readonly kind: 'image'; readonly manifest: ImageManifest };
}

export interface PushOptions extends SignalOptions {
  /** Where to push: a tag (`host/repo:tag`) or a digest (`host/repo@sha256:…`). */
  readonly ref: string | Reference;
  /** The manifest or index to push; its bytes, and every blob it references, come from `source`. */
  readonly root: Descriptor;
  readonly source: BlobSource;
  /**
   * Repositories of the same registry that may already hold a blob (path, e.g. `team/base`, or
   * full name); the client tries a cross-repository mount from them before uploading.
   */
  readonly mountFrom?: readonly string[] | ((blob: Descriptor) => readonly string[]);
  readonly onProgress?: ProgressListener;
}

export interface PushResult {
  readonly ref: Reference;
  /** Digest of the pushed root (what `name@digest` resolves to). */
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** Every blob (not manifests) and how it got there. */
  readonly blobs: readonly { readonly digest: string; readonly outcome: TransferOutcome }[];
}
