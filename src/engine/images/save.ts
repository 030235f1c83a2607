/**
 * `tsbuild save`: images of the local store as one `docker save` archive (manifest.json with
 * RepoTags, configs and layer blobs; the OCI layout files beside them, as BuildKit's docker
 * exporter writes), which `docker load` and `tsbuild load` read. Layers go out as stored.
 */
import { PassThrough } from 'node:stream';
import type { CacheStorage } from '../../cache/cache-storage.js';
import { isDanglingName } from '../../cache/dangling-images.js';
import { writeImageArchive, type ArchiveImage } from '../../exporter/archive.js';
import { requireImage } from './lookup.js';
import type { ByteSink, SavedImage } from '../types.js';

export interface SaveOptions {
  readonly signal: AbortSignal;
  /** Receives the archive's bytes in order. */
  readonly output: ByteSink;
}

/**
 * Writes the images `refs` name (names or IDs, as `docker save`) to `opts.output`. An image given
 * by name is saved under that name; by ID, untagged (docker's RepoTags null). Unknown names fail
 * before a byte is written.
 */
export async function saveImages(storage: CacheStorage, refs: readonly string[], opts: SaveOptions): Promise<SavedImage[]> {
  const { signal } = opts;
  const images: ArchiveImage[] = [];
  const saved: SavedImage[] = [];
  for (const ref of refs) {
    const { found, image } = await requireImage(storage, ref, signal);
    const name = found.byId || isDanglingName(found.entry.name) ? undefined : found.entry.name;
    const manifestBytes = await storage.content.readAll(image.manifestDigest, { signal });
    const configBytes = await storage.content.readAll(image.configDigest, { signal });
    images.push({
      name,
      manifestDescriptor: { mediaType: image.manifest.mediaType, digest: image.manifestDigest, size: manifestBytes.length },
      manifestBytes,
      configDescriptor: image.manifest.config,
      configBytes,
      layers: image.layers,
    });
    saved.push({ ...(name !== undefined ? { name } : {}), manifestDigest: image.manifestDigest, configDigest: image.configDigest });
  }
  const pass = new PassThrough();
  const written = writeImageArchive(pass, images, (d) => storage.content.reader(d, { signal }), { format: 'docker', signal });
  // The reader side: an output that fails (a closed pipe) stops the writer through the stream.
  const forwarded = (async () => {
    try {
      for await (const chunk of pass) await opts.output.write(chunk as Buffer);
    } catch (e) {
      pass.destroy(e as Error);
      throw e;
    }
  })();
  await Promise.all([written, forwarded]);
  return saved;
}
