/**
 * Unpacks an image that was just put into the local store (`image import`, `image load`) into its
 * chain of committed snapshots, as `docker import` and `docker load` extract their layers into the
 * graph driver: the first build FROM it then finds the layers unpacked (the `chain:` records
 * image-unpack.ts leaves) instead of applying them on its critical path. Without this, the first
 * FROM of a fresh data root applied the whole base image — on the busybox base, ~400 entries
 * created while the build waited (docs/benchmarks.md, issue 14's cold builds).
 *
 * Best effort: the image is stored either way, and a layer that cannot be applied here fails the
 * same way at the first FROM, with the build's own error; only a cancellation is passed on.
 */
import { isCancellation } from '../../solver/errors.js';
import { loadImageByDigest } from '../../worker/ops/local-image.js';
import { ensureTopSnapshot, type TopSnapshotServices } from './top-snapshot.js';

export async function unpackStoredImage(s: TopSnapshotServices, image: { readonly name?: string; readonly manifestDigest: string }, signal: AbortSignal): Promise<void> {
  try {
    const img = await loadImageByDigest(s.storage, image.name ?? image.manifestDigest, image.manifestDigest, { signal });
    await ensureTopSnapshot(s, img, { signal });
  } catch (e) {
    if (signal.aborted || isCancellation(e)) throw e;
  }
}
