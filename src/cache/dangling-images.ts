/**
 * Untagged ("dangling") images. The image store keys images by name, but `docker load` of an
 * untagged image keeps it, addressable by ID and shown as `<none>`. tsbuild stores such an image
 * under a placeholder name that can never be a reference (`<none>@sha256:<manifest>`), so it is
 * listed, protected from blob GC and can be tagged; tagging or loading it under a real name drops
 * the placeholder. A build without a name stores its image the same way (as `docker build` without
 * `-t` does), and a name moved to a new build leaves its old image dangling.
 */
import type { ImageStore } from './image-store.js';
import type { ImageEntry } from './types.js';

const PREFIX = '<none>@';

export function danglingName(manifestDigest: string): string {
  return `${PREFIX}${manifestDigest}`;
}

export function isDanglingName(name: string): boolean {
  return name.startsWith(PREFIX);
}

/**
 * Points `name` at an image, as docker does when a tag moves: the image the name left becomes
 * dangling if nothing else names it, and the new image stops being dangling. Call inside a write
 * transaction.
 */
export function putName(images: ImageStore, name: string, target: { readonly manifestDigest: string; readonly configDigest: string; readonly mediaType: string }): ImageEntry {
  const before = images.get(name);
  const entry = images.put({ name, ...target });
  images.delete(danglingName(target.manifestDigest));
  if (before && before.manifestDigest !== target.manifestDigest && !images.list().some((e) => e.manifestDigest === before.manifestDigest)) {
    images.put({ name: danglingName(before.manifestDigest), manifestDigest: before.manifestDigest, configDigest: before.configDigest, mediaType: before.mediaType });
  }
  return entry;
}

/**
 * Keeps an image without a name, as docker keeps an untagged build: a `<none>` entry unless some
 * name already holds the same manifest. Call inside a write transaction.
 */
export function putUntagged(images: ImageStore, target: { readonly manifestDigest: string; readonly configDigest: string; readonly mediaType: string }): void {
  if (images.list().some((e) => e.manifestDigest === target.manifestDigest)) return;
  images.put({ name: danglingName(target.manifestDigest), ...target });
}
