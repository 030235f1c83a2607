/**
 * Deleting the blobs of images nobody names any more. Prune only frees layer blobs whose snapshot
 * it removes; blobs that came in through `image load` (or whose image was removed with `rmi`) are
 * freed here, once no image in the store reaches them and no snapshot's layer-blob entry names them.
 *
 * Race: a process that has written a blob but not yet tagged its image could lose the blob to a
 * concurrent `rmi`/failed load; that process then fails with a missing blob (never a corrupt
 * image), and a retry heals it.
 */
import type { CacheStorage } from '../cache/cache-storage.js';
import { isSha256Digest } from '../cache/digest.js';
import { throwIfAborted } from '../util/errors.js';

interface Referencing {
  config?: { digest?: unknown };
  layers?: { digest?: unknown }[];
  manifests?: { digest?: unknown }[];
}

/** Only manifests, indexes and configs can reference other blobs; they are small. */
const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** Every blob reachable from the given manifests, indexes or configs (recursively). */
export async function reachableBlobs(storage: CacheStorage, roots: Iterable<string>, signal: AbortSignal): Promise<Set<string>> {
  const out = new Set<string>();
  const queue: string[] = [...roots];
  while (queue.length > 0) {
    throwIfAborted(signal);
    const d = queue.pop() as string;
    if (out.has(d) || !isSha256Digest(d)) continue;
    out.add(d);
    const info = await storage.content.info(d, { signal });
    if (!info || info.size > MAX_DOCUMENT_BYTES) continue;
    let doc: Referencing;
    try {
      const bytes = await storage.content.readAll(d, { signal });
      if (bytes[0] !== 0x7b) continue; // not a JSON object: a layer
      doc = JSON.parse(bytes.toString('utf8')) as Referencing;
    } catch {
      continue;
    }
    if (typeof doc !== 'object' || doc === null) continue;
    const refs = [doc.config, ...(Array.isArray(doc.layers) ? doc.layers : []), ...(Array.isArray(doc.manifests) ? doc.manifests : [])];
    for (const r of refs) if (typeof r?.digest === 'string') queue.push(r.digest);
  }
  return out;
}

/** Every blob reachable from an image in the store: manifests and indexes, configs, layers. */
export function blobsOfImages(storage: CacheStorage, signal: AbortSignal): Promise<Set<string>> {
  return reachableBlobs(storage, storage.images.list().flatMap((e) => [e.manifestDigest, e.configDigest]), signal);
}

/**
 * Deletes those of `candidates` that no image reaches and no layer-blob entry names. Returns the
 * digests deleted.
 */
export async function deleteUnreferencedBlobs(storage: CacheStorage, candidates: Iterable<string>, signal: AbortSignal): Promise<string[]> {
  const keep = await blobsOfImages(storage, signal);
  const deleted: string[] = [];
  for (const d of [...new Set(candidates)].sort()) {
    if (keep.has(d) || storage.layerBlobs.isBlobReferenced(d)) continue;
    if (await storage.content.delete(d)) deleted.push(d);
  }
  return deleted;
}
