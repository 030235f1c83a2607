/** `tsbuild images`: every stored name with its image ID, creation time and size, newest first. */
import type { CacheStorage } from '../cache/cache-storage.js';
import type { ImageSummary } from './types.js';
import { throwIfAborted } from '../util/errors.js';
import { loadImageByDigest, type LocalImage } from '../worker/ops/local-image.js';
import { isDanglingName } from '../cache/dangling-images.js';
import { layerContentSizes } from './image-info.js';
import { repoTag } from './image-names.js';
import type { LayerLimits } from '../worker/diff/layer-limits.js';

export async function listImages(storage: CacheStorage, signal: AbortSignal, limits?: LayerLimits): Promise<ImageSummary[]> {
  const out: ImageSummary[] = [];
  // Several names often share one manifest: read it (and size its layers) once.
  const byManifest = new Map<string, { image: LocalImage | undefined; size: number }>();
  for (const e of storage.images.list()) {
    throwIfAborted(signal);
    let info = byManifest.get(e.manifestDigest);
    if (!info) {
      try {
        const image = await loadImageByDigest(storage, e.name, e.manifestDigest, { signal });
        info = { image, size: (await layerContentSizes(storage, image, signal, limits)).reduce((a, b) => a + b, 0) };
      } catch (err) {
        throwIfAborted(signal);
        // A damaged image (a blob deleted by hand) is still listed, so it can be removed.
        void err;
        info = { image: undefined, size: 0 };
      }
      byManifest.set(e.manifestDigest, info);
    }
    const { repository, tag } = repoTag(e.name);
    const created = info.image?.config.created;
    out.push({
      ...(isDanglingName(e.name) ? {} : { name: e.name }),
      repository,
      tag,
      id: e.configDigest,
      manifestDigest: e.manifestDigest,
      ...(created !== undefined ? { created } : {}),
      size: info.size,
    });
  }
  const time = (s: ImageSummary): number => (s.created ? Date.parse(s.created) || 0 : 0);
  return out.sort((a, b) => time(b) - time(a) || a.repository.localeCompare(b.repository) || a.tag.localeCompare(b.tag));
}
