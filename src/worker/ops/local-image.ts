/**
 * Images in the local store: name → manifest → config and layers, all read from the content store.
 * Used by FROM (the image source op) and by the frontend's base-image resolver.
 */
import type { CacheStorage } from '../../cache/cache-storage.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from '../../oci/types.js';
import { MediaType } from '../../oci/types.js';
import { normalizeImageRef } from '../../oci/reference.js';
import { TsbuildError } from '../../util/errors.js';

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

/** Loads an image by manifest (or index: the linux/amd64 entry, or the only one) digest. */
export async function loadImageByDigest(storage: CacheStorage, name: string, digest: string, opts: { readonly signal?: AbortSignal; readonly platform?: { os: string; architecture: string } } = {}): Promise<LocalImage> {
  let manifestDigest = digest;
  let doc = await readJson<ImageManifest | ImageIndex>(storage, manifestDigest, 'manifest', opts.signal);
  if (doc.mediaType === MediaType.ociIndex || doc.mediaType === MediaType.dockerManifestList || 'manifests' in doc) {
    const idx = doc as ImageIndex;
    const want = opts.platform ?? { os: 'linux', architecture: 'amd64' };
    const pick = idx.manifests.find((m) => m.platform?.os === want.os && m.platform.architecture === want.architecture) ?? (idx.manifests.length === 1 ? idx.manifests[0] : undefined);
    if (!pick) throw new TsbuildError('IMAGE_NO_PLATFORM', `image ${name} has no manifest for ${want.os}/${want.architecture}`);
    manifestDigest = pick.digest;
    doc = await readJson<ImageManifest>(storage, manifestDigest, 'manifest', opts.signal);
  }
  const manifest = doc as ImageManifest;
  const config = await readJson<ImageConfig>(storage, manifest.config.digest, 'image config', opts.signal);
  return { name, manifestDigest, manifest, configDigest: manifest.config.digest, config, layers: manifest.layers };
}

/** The image called `ref` in the local store, or undefined. */
export async function findLocalImage(storage: CacheStorage, ref: string, opts: { readonly signal?: AbortSignal } = {}): Promise<LocalImage | undefined> {
  const name = normalizeImageRef(ref);
  const entry = storage.images.get(name);
  if (!entry) return undefined;
  return loadImageByDigest(storage, name, entry.manifestDigest, opts);
}
