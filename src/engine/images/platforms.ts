/**
 * The platforms of a multi-platform image in the local store (its row names an image index or a
 * docker manifest list), as `os/arch[/variant]`; `tsbuild images` and `inspect` show them. An image
 * with one manifest has none to show (its config's architecture says it).
 */
import type { CacheStorage } from '../../cache/cache-storage.js';
import { MediaType, type ImageIndex, type ImageManifest } from '../../oci/types.js';

export async function indexPlatforms(storage: CacheStorage, manifestDigest: string, signal: AbortSignal): Promise<string[] | undefined> {
  let doc: ImageIndex | ImageManifest;
  try {
    doc = JSON.parse((await storage.content.readAll(manifestDigest, { signal })).toString('utf8')) as ImageIndex | ImageManifest;
  } catch {
    return undefined;
  }
  if (doc.mediaType !== MediaType.ociIndex && doc.mediaType !== MediaType.dockerManifestList && !('manifests' in doc)) return undefined;
  return (doc as ImageIndex).manifests.flatMap((m) => {
    const p = m.platform;
    // Attestation manifests (unknown/unknown) and entries without a platform are not platforms.
    if (!p || p.os === 'unknown') return [];
    return [`${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`];
  });
}
