/**
 * An image of the local store made ready to leave the machine: its uncompressed layers (a build's
 * own, stored lazily) compressed as the push asks — with `force-compression`, every layer not
 * already in that compression. The config is untouched (diff_ids do not depend on compression), so
 * the image ID stays; the manifest (and an index over it) gets new bytes and a new digest, stored
 * in the content store beside the local one, as Docker's push makes a new manifest too.
 */
import { createHash } from 'node:crypto';
import type { CacheStorage } from '../cache/cache-storage.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from '../oci/types.js';
import { MediaType } from '../oci/types.js';
import { allOrFirstError } from '../util/parallel.js';
import { TsbuildError } from '../util/errors.js';
import { blobInCompression } from './layer-convert.js';
import { compressionOfMediaType, layerMediaType } from './layer-compress.js';
import type { LayerOptions } from './types.js';

/** Layers converted at once (each compresses on several threads already). */
const CONCURRENCY = 2;

async function readJson<T>(storage: CacheStorage, digest: string, signal: AbortSignal): Promise<T> {
  return JSON.parse((await storage.content.readAll(digest, { signal })).toString('utf8')) as T;
}

function needsConversion(mediaType: string, opts: LayerOptions): boolean {
  const have = compressionOfMediaType(mediaType);
  return have !== opts.compression && (have === 'uncompressed' || opts.force === true);
}

async function convertManifest(storage: CacheStorage, root: Descriptor, opts: LayerOptions, signal: AbortSignal): Promise<Descriptor> {
  const manifest = await readJson<ImageManifest>(storage, root.digest, signal);
  if (!manifest.layers.some((l) => needsConversion(l.mediaType, opts))) return root;
  const config = await readJson<ImageConfig>(storage, manifest.config.digest, signal);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new TsbuildError('IMAGE_INVALID', `manifest ${root.digest} has ${manifest.layers.length} layers but its config ${diffIds.length} diff_ids`);
  }
  const flavour = manifest.mediaType === MediaType.dockerManifest ? 'docker' : 'oci';
  const layers: Descriptor[] = [...manifest.layers];
  await allOrFirstError(manifest.layers, { concurrency: CONCURRENCY, signal }, async (l, i, sig) => {
    if (!needsConversion(l.mediaType, opts)) return;
    const info = await blobInCompression(storage, { digest: l.digest, diffId: diffIds[i] as string }, opts, sig);
    layers[i] = { ...l, mediaType: layerMediaType(info.compression, flavour), digest: info.digest, size: info.size };
  });
  const bytes = Buffer.from(JSON.stringify({ ...manifest, layers }));
  await storage.content.put(bytes, { signal });
  return { ...root, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
}

/** The descriptor to push for the stored image `root` (itself when nothing needs converting). */
export async function imageForTransfer(storage: CacheStorage, root: Descriptor, opts: LayerOptions, signal: AbortSignal): Promise<Descriptor> {
  if (root.mediaType !== MediaType.ociIndex && root.mediaType !== MediaType.dockerManifestList) return convertManifest(storage, root, opts, signal);
  const index = await readJson<ImageIndex>(storage, root.digest, signal);
  const manifests: Descriptor[] = [];
  let changed = false;
  for (const m of index.manifests) {
    const isImage = m.mediaType === MediaType.ociManifest || m.mediaType === MediaType.dockerManifest;
    const next = isImage && (await storage.content.has(m.digest, { signal })) ? await convertManifest(storage, m, opts, signal) : m;
    changed ||= next !== m;
    manifests.push(next);
  }
  if (!changed) return root;
  const bytes = Buffer.from(JSON.stringify({ ...index, manifests }));
  await storage.content.put(bytes, { signal });
  return { ...root, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
}
