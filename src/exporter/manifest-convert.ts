/**
 * An image of the local store made ready to leave the machine: its uncompressed layers (a build's
 * own, stored lazily) compressed as the push asks — with `force-compression`, every layer not
 * already in that compression. The config is untouched (diff_ids do not depend on compression), so
 * the image ID stays; the manifest (and an index over it) gets new bytes and a new digest, as
 * Docker's push makes a new manifest too. The new documents are served from memory, not stored:
 * nothing local names them, so in the content store they would be orphans. So would a compressed
 * blob that no snapshot's entry remembers (a layer diffed with SOURCE_DATE_EPOCH): those are listed
 * as transient, for the caller to drop after the push (they can be made again, byte for byte).
 */
import { createHash } from 'node:crypto';
import type { CacheStorage } from '../cache/cache-storage.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from '../oci/types.js';
import { MediaType } from '../oci/types.js';
import { allOrFirstError } from '../util/parallel.js';
import { TsbuildError } from '../util/errors.js';
import { blobInCompression, type TransientBlob } from './layer-convert.js';
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

/** What to push: the root, the documents made for it (by digest) and the blobs to drop after. */
export interface TransferImage {
  readonly root: Descriptor;
  readonly documents: Map<string, Buffer>;
  readonly transient: TransientBlob[];
}

function document(out: TransferImage, like: Descriptor, bytes: Buffer): Descriptor {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  out.documents.set(digest, bytes);
  return { ...like, digest, size: bytes.length };
}

async function convertManifest(storage: CacheStorage, root: Descriptor, opts: LayerOptions, out: TransferImage, signal: AbortSignal): Promise<Descriptor> {
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
    if (info.transient) out.transient.push(info.transient);
    layers[i] = { ...l, mediaType: layerMediaType(info.compression, flavour), digest: info.digest, size: info.size };
  });
  return document(out, root, Buffer.from(JSON.stringify({ ...manifest, layers })));
}

/** What to push for the stored image `root` (itself when nothing needs converting). */
export async function imageForTransfer(storage: CacheStorage, root: Descriptor, opts: LayerOptions, signal: AbortSignal): Promise<TransferImage> {
  const out: TransferImage = { root, documents: new Map(), transient: [] };
  if (root.mediaType !== MediaType.ociIndex && root.mediaType !== MediaType.dockerManifestList) {
    return { ...out, root: await convertManifest(storage, root, opts, out, signal) };
  }
  const index = await readJson<ImageIndex>(storage, root.digest, signal);
  const manifests: Descriptor[] = [];
  let changed = false;
  for (const m of index.manifests) {
    const isImage = m.mediaType === MediaType.ociManifest || m.mediaType === MediaType.dockerManifest;
    const next = isImage && (await storage.content.has(m.digest, { signal })) ? await convertManifest(storage, m, opts, out, signal) : m;
    changed ||= next !== m;
    manifests.push(next);
  }
  return changed ? { ...out, root: document(out, root, Buffer.from(JSON.stringify({ ...index, manifests }))) } : out;
}

/** Drops the transient blobs of a transfer, unless something claimed one since it was made. */
export async function dropTransient(storage: CacheStorage, t: TransferImage): Promise<void> {
  for (const b of t.transient) await storage.content.collect(b.digest, (mtimeMs) => mtimeMs > b.madeAtMs).catch(() => undefined);
}
