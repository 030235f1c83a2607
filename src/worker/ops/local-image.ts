/**
 * Images in the local store: name → manifest → config and layers, all read from the content store.
 * Used by FROM (the image source op) and by the frontend's base-image resolver.
 */
import type { CacheStorage } from '../../cache/cache-storage.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from '../../oci/types.js';
import { MediaType } from '../../oci/types.js';
import { normalizeImageRef } from '../../oci/reference.js';
import { TsbuildError } from '../../util/errors.js';
import { DEFAULT_PLATFORM, formatPlatform, selectPlatform, type PlatformSpec } from '../../registry/platform.js';

export interface LocalImage {
  /** Normalized reference. */
  readonly name: string;
  readonly manifestDigest: string;
  readonly manifest: ImageManifest;
  readonly configDigest: string;
  readonly config: ImageConfig;
  readonly layers: readonly Descriptor[];
}

async function readJson<T>(storage: CacheStorage, digest: string, what: string, signal?: AbortSignal): Promise<T> {
  let bytes: Buffer;
  try {
    bytes = await storage.content.readAll(digest, signal ? { signal } : {});
  } catch (e) {
    throw new TsbuildError('IMAGE_BLOB_MISSING', `${what} ${digest} is missing from the content store`, { cause: e });
  }
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (e) {
    throw new TsbuildError('IMAGE_BLOB_INVALID', `${what} ${digest} is not valid JSON`, { cause: e });
  }
}

/**
 * Loads an image by manifest or index digest. For an index, the entry of `platform` (normalized as
 * containerd matches platforms: arm64 ≡ arm64/v8…); without one, the linux/amd64 entry or the only
 * one. Throws IMAGE_NO_PLATFORM when the index has no entry for the platform. A single manifest is
 * returned whatever its config's platform (as BuildKit uses a single-platform base).
 */
export async function loadImageByDigest(storage: CacheStorage, name: string, digest: string, opts: { readonly signal?: AbortSignal; readonly platform?: PlatformSpec } = {}): Promise<LocalImage> {
  let manifestDigest = digest;
  let doc = await readJson<ImageManifest | ImageIndex>(storage, manifestDigest, 'manifest', opts.signal);
  if (doc.mediaType === MediaType.ociIndex || doc.mediaType === MediaType.dockerManifestList || 'manifests' in doc) {
    const idx = doc as ImageIndex;
    const want = opts.platform ?? DEFAULT_PLATFORM;
    let pick = selectPlatform(idx.manifests, want);
    if (opts.platform === undefined) {
      // No platform asked for: the default one when it is here, else the first platform pulled
      // (an index pulled for one platform holds only that platform's manifest).
      const here = async (d: Descriptor | undefined): Promise<boolean> => d !== undefined && (await storage.content.has(d.digest, opts.signal ? { signal: opts.signal } : {}));
      if (!(await here(pick))) {
        pick = undefined;
        for (const m of idx.manifests) if (await here(m)) { pick = m; break; }
      }
    } else if (pick && !(await storage.content.has(pick.digest, opts.signal ? { signal: opts.signal } : {}))) {
      throw new TsbuildError('IMAGE_NO_PLATFORM', `image ${name} has a manifest for ${formatPlatform(want)} that is not in the local store (only other platforms were pulled)`);
    }
    if (!pick) throw new TsbuildError('IMAGE_NO_PLATFORM', `image ${name} has no manifest for ${formatPlatform(want)}`);
    manifestDigest = pick.digest;
    doc = await readJson<ImageManifest>(storage, manifestDigest, 'manifest', opts.signal);
  }
  const manifest = doc as ImageManifest;
  const config = await readJson<ImageConfig>(storage, manifest.config.digest, 'image config', opts.signal);
  return { name, manifestDigest, manifest, configDigest: manifest.config.digest, config, layers: manifest.layers };
}

/** The image called `ref` in the local store (its entry for `platform` when it is an index), or undefined. */
export async function findLocalImage(storage: CacheStorage, ref: string, opts: { readonly signal?: AbortSignal; readonly platform?: PlatformSpec } = {}): Promise<LocalImage | undefined> {
  const name = normalizeImageRef(ref);
  const entry = storage.images.get(name);
  if (!entry) return undefined;
  return loadImageByDigest(storage, name, entry.manifestDigest, opts);
}
