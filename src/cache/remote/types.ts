/**
 * Remote cache: the cache records of a build, exported with the layer blobs of their results'
 * snapshot chains so that another data root (another machine, a CI runner) can import them —
 * through a registry (`type=registry`), an OCI layout directory (`type=local`) or inside the
 * pushed image's config (`type=inline`). The format is tsbuild's own (BuildKit's cache manifests
 * key by BuildKit's cache keys, which tsbuild does not compute); see docs/remote-cache.md.
 *
 * This layer holds the format, the flag syntax, the OCI layout directory and the record store
 * that consults imported metadata; the engine adds the registry transport and turns imported
 * records into snapshots.
 */
import type { Descriptor } from '../../oci/types.js';
import type { RecordType } from '../../solver/cache-types.js';

// ---------------------------------------------------------------------------------------------
// Flags: `--cache-to` / `--cache-from`

/** `min`: only records whose result is part of the final image; `max`: every step of every stage. */
export type CacheMode = 'min' | 'max';

/** One `--cache-to` value. */
export type CacheExportSpec =
  | {
      readonly kind: 'registry';
      /** Where the cache manifest is pushed (`host/repo:tag`). */
      readonly ref: string;
      /** Default `min`. */
      readonly mode: CacheMode;
      /** Export failures become warnings. Default false. */
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
      /** An OCI layout directory (created when missing; other entries of its index are kept). */
      readonly dest: string;
      readonly mode: CacheMode;
      /** `org.opencontainers.image.ref.name` of the cache manifest in index.json. Default `latest`. */
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
      /** An OCI layout directory written by `--cache-to type=local`. */
      readonly src: string;
      /** Which manifest of the index: by `org.opencontainers.image.ref.name`. Default `latest`. */
      readonly tag: string;
      /** Or by manifest digest (wins over tag). */
      readonly digest?: string;
    };

// ---------------------------------------------------------------------------------------------
// The format

/** Config media type of a cache manifest (an OCI image manifest whose layers are the blobs). */
export const CACHE_CONFIG_MEDIA_TYPE = 'application/vnd.tsbuild.cache.config.v0+json';
/** Image-config field holding inline cache metadata (BuildKit's is `moby.buildkit.cache.v0`). */
export const INLINE_CACHE_FIELD = 'tsbuild.cache.v0';
export const CACHE_FORMAT_VERSION = 'tsbuild.cache.v0';

/** One layer of a snapshot chain. Layers form a forest through `parent`. */
export interface CacheLayer {
  /** sha256 of the uncompressed layer tar (identifies the layer; chain ids are made from these). */
  readonly diffId: string;
  /**
   * The layer blob. Absent for an empty layer (the importer makes the empty tar itself) and in
   * inline cache, where the blob is the image manifest's layer with this diff_id.
   */
  readonly blob?: Descriptor;
  /** Index of the layer below this one in `CacheConfig.layers`, or -1 for a base layer. */
  readonly parent: number;
}

/** One cache record: a cache key and the snapshot chain of its result. */
export interface CacheRecordEntry {
  /** The persistent cache key ("sha256:…"), computed by the solver the same way on every machine. */
  readonly key: string;
  readonly output: number;
  readonly recordType: RecordType;
  /** The step's name, for du and progress. */
  readonly description: string;
  /** Cache keys of the inputs (links), for miss explanations and tooling. */
  readonly inputs: readonly string[];
  /** Top layer of the result's chain, or -1 for an empty filesystem. */
  readonly layer: number;
}

/** The metadata of an exported cache. Layers come before the layers that sit on them. */
export interface CacheConfig {
  readonly version: typeof CACHE_FORMAT_VERSION;
  readonly layers: readonly CacheLayer[];
  readonly records: readonly CacheRecordEntry[];
}

// ---------------------------------------------------------------------------------------------
// Importing

export interface FetchBlobOptions {
  readonly signal: AbortSignal;
}

/**
 * Where an imported cache's blobs come from. `fetch` copies one blob into the local content store,
 * verified against its digest (a failed copy leaves nothing behind), and resolves with the bytes
 * moved (0 when it was already there).
 */
export interface CacheBlobFetcher {
  /** For messages: `127.0.0.1:5000/cache:main`, `local cache /ci/cache`. */
  readonly name: string;
  fetch(blob: Descriptor, opts: FetchBlobOptions): Promise<number>;
}

/** A cache that was read (metadata only) and can fetch its blobs on demand. */
export interface ImportedCache {
  readonly name: string;
  readonly config: CacheConfig;
  /** For inline cache: the image's layers by diff_id. */
  readonly blobsByDiffId?: ReadonlyMap<string, Descriptor>;
  readonly fetcher: CacheBlobFetcher;
}

/** A layer of a resolved chain: the blob to fetch, or `empty` for a layer with no changes. */
export type ChainLayer =
  | { readonly kind: 'blob'; readonly diffId: string; readonly blob: Descriptor }
  | { readonly kind: 'empty'; readonly diffId: string };

/** An imported record with its chain resolved, bottom layer first. */
export interface RemoteRecord {
  readonly entry: CacheRecordEntry;
  readonly chain: readonly ChainLayer[];
  readonly source: ImportedCache;
}
