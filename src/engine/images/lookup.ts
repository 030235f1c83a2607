/**
 * Finds images in the local store the way the docker CLI does: by name (`app`, `app:1`,
 * `docker.io/library/app:latest`), by name and manifest digest (`app@sha256:…`), or by image ID —
 * the config digest, in full (`sha256:…`) or as a unique hex prefix (`3f2a9c1b0d7e`).
 */
import type { CacheStorage } from '../../cache/cache-storage.js';
import type { ImageEntry } from '../../cache/types.js';
import { InvalidReferenceError, normalizeImageRef, parseReference, formatReference } from '../../oci/reference.js';
import { UserInputError } from '../../util/errors.js';
import { loadImageByDigest, type LocalImage } from '../../worker/ops/local-image.js';

/** Image ID forms: `sha256:<hex prefix>` or a bare hex prefix (docker accepts any unique prefix). */
const ID_RE = /^(?:sha256:)?([0-9a-f]{1,64})$/;

export interface FoundImage {
  /** The store entry the reference selected (for an ID: the first name, sorted, of that image). */
  readonly entry: ImageEntry;
  /** Every name in the store that points at the same manifest, sorted. */
  readonly names: readonly string[];
  /** True when the reference was an image ID rather than a name. */
  readonly byId: boolean;
}

function notFound(ref: string): UserInputError {
  return new UserInputError('IMAGE_NOT_FOUND', `No such image: ${ref}`);
}

function byName(storage: CacheStorage, ref: string): ImageEntry | undefined {
  const r = parseReference(ref);
  if (r.digest === undefined) return storage.images.get(normalizeImageRef(ref));
  // `name@digest` (or `name:tag@digest`): a stored name of that repository holding that manifest.
  const exact = storage.images.get(formatReference(r));
  if (exact) return exact;
  const repo = `${r.domain}/${r.path}`;
  return storage.images.list().find((e) => e.manifestDigest === r.digest && (e.name.startsWith(`${repo}:`) || e.name.startsWith(`${repo}@`)));
}

function byId(storage: CacheStorage, ref: string, hex: string): ImageEntry | undefined {
  const matches = storage.images.list().filter((e) => e.configDigest.slice('sha256:'.length).startsWith(hex));
  const ids = new Set(matches.map((e) => e.configDigest));
  if (ids.size > 1) throw new UserInputError('IMAGE_AMBIGUOUS', `image ID prefix "${ref}" is ambiguous: it matches ${ids.size} images`);
  return matches[0];
}

/** The store entry a reference names. Throws IMAGE_NOT_FOUND, IMAGE_AMBIGUOUS or INVALID_REFERENCE. */
export function findImage(storage: CacheStorage, ref: string): FoundImage {
  const id = ID_RE.exec(ref);
  let entry: ImageEntry | undefined;
  let viaId = false;
  // A full 64-hex string or a `sha256:` prefix can only be an ID; a short hex word may also be a
  // repository name, which wins, as in docker.
  if (id?.[1] && (ref.startsWith('sha256:') || id[1].length === 64)) {
    entry = byId(storage, ref, id[1]);
    viaId = true;
  } else {
    try {
      entry = byName(storage, ref);
    } catch (e) {
      if (e instanceof InvalidReferenceError) throw new UserInputError('INVALID_REFERENCE', e.message, { cause: e });
      throw e;
    }
    if (!entry && id?.[1]) {
      entry = byId(storage, ref, id[1]);
      viaId = entry !== undefined;
    }
  }
  if (!entry) throw notFound(ref);
  const found = entry;
  const names = storage.images.list().filter((e) => e.manifestDigest === found.manifestDigest).map((e) => e.name).sort();
  return { entry: found, names, byId: viaId };
}

/** The image a reference names, with its manifest, config and layers read from the content store. */
export async function requireImage(storage: CacheStorage, ref: string, signal: AbortSignal): Promise<{ readonly found: FoundImage; readonly image: LocalImage }> {
  const found = findImage(storage, ref);
  const image = await loadImageByDigest(storage, found.entry.name, found.entry.manifestDigest, { signal });
  return { found, image };
}
