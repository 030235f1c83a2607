/**
 * `tsbuild images`: every stored name with its image ID, creation time and size, newest first. As
 * `docker images`, a row's DIGEST is the image's RepoDigest in the row's repository, and a
 * RepoDigest whose repository has no tag on the image shows as its own `REPO <none>` row (an
 * untagged image with RepoDigests has those rows instead of `<none> <none>`).
 */
import type { CacheStorage } from '../../cache/cache-storage.js';
import type { ImageSummary } from '../types.js';
import { throwIfAborted } from '../../util/errors.js';
import { loadImageByDigest, type LocalImage } from '../../worker/ops/local-image.js';
import { isDanglingName } from '../../cache/dangling-images.js';
import { layerContentSizes } from './info.js';
import { indexPlatforms } from './platforms.js';
import { familiarRepoDigest, repoTag, repositoryOf } from './names.js';
import type { LayerLimits } from '../../worker/diff/layer-limits.js';

/** What every row of one image shares. */
type Row = Pick<ImageSummary, 'id' | 'manifestDigest' | 'created' | 'size' | 'platforms'>;

export async function listImages(storage: CacheStorage, signal: AbortSignal, limits?: LayerLimits): Promise<ImageSummary[]> {
  const out: ImageSummary[] = [];
  const untagged: Row[] = [];
  // Several names often share one manifest: read it (and size its layers) once.
  const byManifest = new Map<string, { image: LocalImage | undefined; size: number; platforms?: string[] | undefined }>();
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
      info.platforms = await indexPlatforms(storage, e.manifestDigest, signal);
      byManifest.set(e.manifestDigest, info);
    }
    const created = info.image?.config.created;
    const row: Row = { id: e.configDigest, manifestDigest: e.manifestDigest, ...(created !== undefined ? { created } : {}), size: info.size, ...(info.platforms ? { platforms: info.platforms } : {}) };
    const digests = storage.images.repoDigests(e.configDigest);
    if (isDanglingName(e.name)) {
      if (digests.length === 0) out.push({ repository: '<none>', tag: '<none>', ...row });
      else untagged.push(row);
      continue;
    }
    const { repository, tag } = repoTag(e.name);
    const digest = digests.find((d) => d.repository === repositoryOf(e.name))?.digest;
    out.push({ name: e.name, repository, tag, ...row, ...(digest !== undefined ? { digest } : {}) });
  }
  out.push(...untaggedRepoDigestRows(storage, out, untagged));
  const time = (s: ImageSummary): number => (s.created ? Date.parse(s.created) || 0 : 0);
  return out.sort((a, b) => time(b) - time(a) || a.repository.localeCompare(b.repository) || a.tag.localeCompare(b.tag));
}

/** `REPO <none> DIGEST` rows: RepoDigests of listed images in repositories where the image has no tag. */
function untaggedRepoDigestRows(storage: CacheStorage, rows: readonly ImageSummary[], untagged: readonly Row[]): ImageSummary[] {
  const out: ImageSummary[] = [];
  const seen = new Set<string>();
  for (const r of [...rows, ...untagged]) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    const tagged = new Set(rows.filter((x) => x.id === r.id && x.name !== undefined).map((x) => repositoryOf(x.name as string)));
    for (const d of storage.images.repoDigests(r.id)) {
      if (tagged.has(d.repository)) continue;
      const repository = familiarRepoDigest(d.repository, d.digest).replace(/@.*$/, '');
      out.push({ repository, tag: '<none>', id: r.id, manifestDigest: r.manifestDigest, ...(r.created !== undefined ? { created: r.created } : {}), size: r.size, digest: d.digest, ...(r.platforms ? { platforms: r.platforms } : {}) });
    }
  }
  return out;
}
