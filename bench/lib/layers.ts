/**
 * What a layer list means for shipping an image: its size, and after a rebuild the layers a
 * registry does not have yet, i.e. the bytes a push would have to upload (the split-vs-single
 * trade-off: many small layers re-ship little, one big layer re-ships everything).
 */
import type { ImageLayer } from './types.js';

export interface LayerBytes {
  readonly layers: number;
  /** Sum of the uncompressed layer tars. */
  readonly tarBytes: number;
  /** Sum of the stored blobs (compressed), when the tool stores them compressed. */
  readonly blobBytes: number | undefined;
}

export function sumLayers(layers: readonly ImageLayer[]): LayerBytes {
  let tarBytes = 0;
  let blobBytes: number | undefined = 0;
  for (const l of layers) {
    tarBytes += l.tarSize;
    blobBytes = blobBytes === undefined || l.blobSize === undefined ? undefined : blobBytes + l.blobSize;
  }
  return { layers: layers.length, tarBytes, blobBytes };
}

/** Layers of `after` whose content (diff_id) is not in `before`: what a push must upload. */
export function changedLayers(before: readonly ImageLayer[], after: readonly ImageLayer[]): ImageLayer[] {
  const had = new Set(before.map((l) => l.diffId));
  return after.filter((l) => !had.has(l.diffId));
}
