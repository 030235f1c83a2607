/** `tsbuild history` and `tsbuild inspect`: what an image in the local store is made of. */
import type { CacheStorage } from '../cache/cache-storage.js';
import type { Snapshotter } from '../worker/types.js';
import { findLocalImage, type LocalImage } from '../worker/ops/local-image.js';
import { chainIds } from '../worker/ops/source-op.js';
import { UserInputError } from '../util/errors.js';
import type { HistoryRow, ImageInspect } from '../client/types.js';

export async function requireImage(storage: CacheStorage, name: string, signal: AbortSignal): Promise<LocalImage> {
  const img = await findLocalImage(storage, name, { signal });
  if (!img) throw new UserInputError('IMAGE_NOT_FOUND', `No such image: ${name}`);
  return img;
}

export async function imageHistory(storage: CacheStorage, name: string, signal: AbortSignal): Promise<HistoryRow[]> {
  const img = await requireImage(storage, name, signal);
  // Layer blob sizes as stored (compressed), like `docker history` on a pulled image.
  const sizes = img.layers.map((l) => l.size);
  const diffIds = img.config.rootfs.diff_ids;
  const rows: HistoryRow[] = [];
  let li = 0;
  for (const h of img.config.history ?? []) {
    const empty = h.empty_layer === true;
    const idx = empty ? -1 : li++;
    rows.push({
      id: empty ? '<missing>' : (diffIds[idx] ?? '<missing>'),
      created: h.created,
      createdBy: h.created_by ?? '',
      size: empty ? 0 : (sizes[idx] ?? 0),
      comment: h.comment ?? '',
      emptyLayer: empty,
    });
  }
  return rows.reverse();
}

export async function inspectImage(storage: CacheStorage, snapshotter: Snapshotter, name: string, signal: AbortSignal): Promise<ImageInspect> {
  const img = await requireImage(storage, name, signal);
  // The image's layers are unpacked as snapshots when a build has used them (or produced them).
  let graphDriver: ImageInspect['graphDriver'];
  const chains = chainIds(img.config.rootfs.diff_ids);
  const top = chains[chains.length - 1];
  const topSnapshot = await topSnapshotOf(storage, img, top);
  if (topSnapshot) {
    try {
      graphDriver = { Name: 'overlay2', Data: await snapshotter.graphDriverData(topSnapshot) };
    } catch {
      graphDriver = undefined;
    }
  }
  return {
    name: img.name,
    manifestDigest: img.manifestDigest,
    configDigest: img.configDigest,
    manifest: img.manifest,
    config: img.config,
    graphDriver,
    size: img.layers.reduce((n, l) => n + l.size, 0),
  };
}

/** The snapshot holding the image's top layer: from the base-image chain records, or the layer blob cache. */
async function topSnapshotOf(storage: CacheStorage, img: LocalImage, topChain: string | undefined): Promise<string | undefined> {
  if (topChain) {
    const rec = await storage.records.lookup(`chain:${topChain}`, 0);
    if (rec?.resultId) return rec.resultId;
  }
  const last = img.layers[img.layers.length - 1];
  if (!last) return undefined;
  const entry = storage.layerBlobs.list().find((e) => e.blobDigest === last.digest);
  return entry?.snapshotId;
}
