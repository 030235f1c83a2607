/**
 * `tsbuild push NAME` and `build --push`: an image of the local store to its registry. Blobs the
 * registry already has are skipped (HEAD), blobs another repository of the same registry holds are
 * mounted from it, the rest are uploaded from the content store; the manifest goes last, so the
 * tag never names an incomplete image. Layers stored uncompressed are compressed first
 * (src/exporter/manifest-convert.ts), once: the blob is kept for the next push.
 */
import type { CacheStorage } from '../../cache/cache-storage.js';
import { dropTransient, imageForTransfer } from '../../exporter/manifest-convert.js';
import type { LayerOptions } from '../../exporter/types.js';
import { normalizeImageRef, parseReference } from '../../oci/reference.js';
import type { ImageIndex, ImageManifest } from '../../oci/types.js';
import type { RegistryClient } from '../../registry/client.js';
import type { TransferEvent } from '../../registry/types.js';
import { throwIfAborted, UserInputError } from '../../util/errors.js';
import { contentSource, openRegistryClient } from '../registry-access.js';
import type { CredentialLookup, PushRequest, PushSummary } from '../types.js';

export interface PushOptions {
  readonly signal: AbortSignal;
  readonly onProgress?: (e: TransferEvent) => void;
  /** Where credentials come from besides the docker config (a remote client's lookup). */
  readonly credentials?: CredentialLookup;
  /** A client to reuse (a build's); default: one made from the request and closed after. */
  readonly client?: RegistryClient;
  /** How layers stored uncompressed are shipped (an image output's `compression=`…); default gzip. */
  readonly layers?: LayerOptions;
}

/**
 * Repositories of the same registry that hold each blob, from the images of the local store that
 * were pulled from (or pushed to) that registry: the candidates for cross-repository mounts.
 */
export async function mountSources(storage: CacheStorage, domain: string, signal: AbortSignal): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const e of storage.images.list()) {
    throwIfAborted(signal);
    let repo: string;
    try {
      const r = parseReference(e.name);
      if (r.domain !== domain) continue;
      repo = r.path;
    } catch {
      continue;
    }
    let doc: ImageManifest | ImageIndex;
    try {
      doc = JSON.parse((await storage.content.readAll(e.manifestDigest, { signal })).toString('utf8')) as ImageManifest | ImageIndex;
    } catch {
      continue;
    }
    if (!('layers' in doc) || !Array.isArray(doc.layers)) continue;
    for (const l of doc.layers) {
      // The repository also holds the compressed blobs this layer was pushed as.
      const same = storage.layerBlobs.byDiffId(l.digest).map((e) => e.blobDigest);
      for (const digest of new Set([l.digest, ...same])) {
        const list = out.get(digest) ?? [];
        if (!list.includes(repo)) list.push(repo);
        out.set(digest, list);
      }
    }
  }
  return out;
}

export async function pushFromStore(storage: CacheStorage, req: PushRequest, opts: PushOptions): Promise<PushSummary> {
  const name = normalizeImageRef(req.name);
  const entry = storage.images.get(name);
  if (!entry) throw new UserInputError('IMAGE_NOT_FOUND', `An image does not exist locally with the tag: ${req.name}`);
  const info = await storage.content.info(entry.manifestDigest, { signal: opts.signal });
  if (!info) throw new UserInputError('IMAGE_BLOB_MISSING', `image ${name}: manifest ${entry.manifestDigest} is missing from the content store (run "tsbuild cache check")`);
  const image = await imageForTransfer(storage, { mediaType: entry.mediaType, digest: entry.manifestDigest, size: info.size }, opts.layers ?? { compression: 'gzip' }, opts.signal);
  const client = opts.client ?? openRegistryClient(req.registry, opts.credentials);
  try {
    const mounts = await mountSources(storage, parseReference(name).domain, opts.signal);
    const res = await client.push({
      ref: name,
      root: image.root,
      source: contentSource(storage, { extra: image.documents }),
      mountFrom: (blob) => mounts.get(blob.digest) ?? [],
      signal: opts.signal,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    const r = parseReference(name);
    // Docker's RepoDigests: the image (by ID) is now this digest in this repository.
    storage.images.setRepoDigest(entry.configDigest, `${r.domain}/${r.path}`, res.digest);
    return { name, digest: res.digest, size: res.size, blobs: res.blobs };
  } finally {
    if (!opts.client) client.close();
    await dropTransient(storage, image);
  }
}
