/**
 * Blobs the image store needs: every manifest (or index, recursively), config and layer reachable
 * from a tagged image. Prune never deletes them.
 */
import type { CacheParts } from './cache-parts.js';
import { isSha256Digest } from './digest.js';
import type { SignalOptions } from './types.js';

interface Referencing {
  config?: { digest?: unknown };
  layers?: { digest?: unknown }[];
  manifests?: { digest?: unknown }[];
}

export async function imageReferencedBlobs(parts: CacheParts, opts: SignalOptions = {}): Promise<Set<string>> {
  const out = new Set<string>();
  const queue: string[] = [];
  for (const img of parts.images.list()) queue.push(img.manifestDigest, img.configDigest);
  while (queue.length > 0) {
    const d = queue.pop() as string;
    if (out.has(d) || !isSha256Digest(d)) continue;
    out.add(d);
    let doc: Referencing;
    try {
      const info = await parts.content.info(d, opts);
      // Only small JSON documents can reference other blobs; layers are never parsed.
      if (!info || info.size > 4 * 1024 * 1024) continue;
      doc = JSON.parse((await parts.content.readAll(d, opts)).toString('utf8')) as Referencing;
    } catch {
      continue;
    }
    if (typeof doc !== 'object' || doc === null) continue;
    const refs = [doc.config, ...(Array.isArray(doc.layers) ? doc.layers : []), ...(Array.isArray(doc.manifests) ? doc.manifests : [])];
    for (const r of refs) if (typeof r?.digest === 'string') queue.push(r.digest);
  }
  return out;
}
