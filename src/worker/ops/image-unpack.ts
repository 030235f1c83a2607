/**
 * Unpacks a local image's layers as a chain of committed snapshots, the way FROM does: each layer
 * is found again through its `chain:<chain id>` cache record (OCI chain ids, so one layer stack
 * is unpacked once per data root) or applied from its blob, checked against the config's diff_id,
 * and remembered in the layer-blob cache so exports reuse the original blob.
 *
 * Shared by ImageSourceOp (source-op.ts) and `tsbuild inspect` (GraphDriver data needs the
 * snapshots to exist).
 */
import type { CacheStorage } from '../../cache/cache-storage.js';
import { TsbuildError } from '../../util/errors.js';
import type { LayerApplier, Snapshotter } from '../types.js';
import type { LocalImage } from './local-image.js';

import { chainIds } from '../../oci/chain-id.js';

/** The cache-record key under which a chain id's snapshot is remembered. */
export function chainRecordKey(chainId: string): string {
  return `chain:${chainId}`;
}

export interface UnpackServices {
  readonly storage: CacheStorage;
  readonly snapshotter: Snapshotter;
  readonly applier: LayerApplier;
}

export interface UnpackProgress {
  readonly index: number;
  readonly digest: string;
  readonly size: number;
  readonly phase: 'started' | 'done';
}

export interface UnpackOptions {
  readonly signal: AbortSignal;
  /** Called around each layer that is applied (not for layers already unpacked). */
  readonly onLayer?: (p: UnpackProgress) => void;
}

/** Applies the image's layers that are not unpacked yet. Returns the top snapshot id (undefined: no layers). */
export async function unpackImage(services: UnpackServices, img: LocalImage, opts: UnpackOptions): Promise<string | undefined> {
  const { storage, applier, snapshotter } = services;
  const { signal } = opts;
  const diffIds = img.config.rootfs.diff_ids;
  if (diffIds.length !== img.layers.length) {
    throw new TsbuildError('IMAGE_INVALID', `image ${img.name}: ${img.layers.length} layers but ${diffIds.length} diff_ids`);
  }
  const chains = chainIds(diffIds);
  let parent: string | undefined;
  for (const [i, layer] of img.layers.entries()) {
    const key = chainRecordKey(chains[i] as string);
    const rec = await storage.records.lookup(key, 0, { signal });
    if (rec && (await snapshotter.stat(rec.resultId).then((s) => s.kind === 'committed', () => false))) {
      parent = rec.resultId;
      continue;
    }
    opts.onLayer?.({ index: i, digest: layer.digest, size: layer.size, phase: 'started' });
    const stream = await storage.content.reader(layer.digest, { signal });
    const applied = await applier.apply(stream, { signal, digest: layer.digest, ...(parent ? { parent } : {}) });
    if (applied.diffId !== diffIds[i]) {
      await snapshotter.remove(applied.id).catch(() => undefined);
      throw new TsbuildError('IMAGE_LAYER_MISMATCH', `image ${img.name}: layer ${i} has diff_id ${applied.diffId}, config says ${diffIds[i] as string}`);
    }
    opts.onLayer?.({ index: i, digest: layer.digest, size: layer.size, phase: 'done' });
    // Exports reuse the blob the layer came from, so the image's diff_ids stay as they are.
    storage.layerBlobs.put({
      snapshotId: applied.id,
      compression: /gzip/.test(layer.mediaType) ? 'gzip' : /zstd/.test(layer.mediaType) ? 'zstd' : 'uncompressed',
      blobDigest: layer.digest,
      diffId: applied.diffId,
      size: layer.size,
      mediaType: layer.mediaType,
      origin: 'image',
    });
    await storage.records.save({ key, output: 0, resultId: applied.id, recordType: 'source.image', description: `${img.name} layer ${i + 1}/${img.layers.length}`, replace: true }, { signal });
    parent = applied.id;
  }
  return parent;
}
