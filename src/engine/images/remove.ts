/**
 * `tsbuild rmi` and `tsbuild tag`. Removing an image's last name also deletes the blobs only it
 * used (manifest, config, layers nobody else needs), through the garbage collection every
 * operation ends with; layers that back snapshots stay for the build cache, and prune frees them
 * with their snapshots.
 */
import type { CacheStorage } from '../../cache/cache-storage.js';
import type { ImageEntry } from '../../cache/types.js';
import type { RemovedImage } from '../types.js';
import { InvalidReferenceError, normalizeImageRef } from '../../oci/reference.js';
import { UserInputError } from '../../util/errors.js';
import { isDanglingName, putName } from '../../cache/dangling-images.js';
import { findImage } from './lookup.js';
import { repositoryOf, shortId } from './names.js';

export interface RemoveOptions {
  readonly signal: AbortSignal;
  /** Remove every name of an image given by ID. Default false. */
  readonly force?: boolean;
}

export async function removeImage(storage: CacheStorage, ref: string, opts: RemoveOptions): Promise<RemovedImage> {
  const found = findImage(storage, ref);
  let doomed: ImageEntry[] = [found.entry];
  if (found.byId) {
    // By ID: every name of the image, which docker only does when forced if there are several.
    doomed = storage.images.list().filter((e) => e.configDigest === found.entry.configDigest);
    const named = doomed.filter((e) => !isDanglingName(e.name));
    if (named.length > 1 && opts.force !== true) {
      throw new UserInputError('IMAGE_CONFLICT', `conflict: unable to delete ${shortId(found.entry.configDigest)} (must be forced) - image is referenced in multiple repositories`);
    }
  }
  const ids0 = [...new Set(doomed.map((e) => e.configDigest))];
  const digestsBefore = ids0.flatMap((id) => storage.images.repoDigests(id).map((d) => ({ id, ...d })));
  storage.db.write(() => {
    for (const e of doomed) storage.images.delete(e.name);
    // As docker: untagging a repository's last tag on the image also drops its digest in that
    // repository (the image's last name going drops them all, in ImageStore.delete).
    for (const e of doomed) {
      const repo = repositoryOf(e.name);
      if (repo === undefined) continue;
      const left = storage.images.list().some((x) => x.configDigest === e.configDigest && repositoryOf(x.name) === repo);
      if (!left) storage.images.dropRepoDigest(e.configDigest, repo);
    }
  });
  const digestsAfter = new Set(ids0.flatMap((id) => storage.images.repoDigests(id).map((d) => `${id} ${d.repository}`)));
  const untaggedDigests = digestsBefore.filter((d) => !digestsAfter.has(`${d.id} ${d.repository}`)).map((d) => `${d.repository}@${d.digest}`);
  const named = new Set(storage.images.list().map((e) => e.manifestDigest));
  const gone = doomed.filter((e) => !named.has(e.manifestDigest));
  const ids = [...new Set(gone.map((e) => e.configDigest))];
  // Not cancellable: the names are gone, so what only they reached is garbage now.
  const blobs = gone.length > 0 ? [...(await storage.collectGarbage()).blobsRemoved] : [];
  return {
    untagged: [...doomed.map((e) => e.name).filter((n) => !isDanglingName(n)), ...untaggedDigests],
    deleted: [...ids, ...blobs.filter((b) => !ids.includes(b))],
  };
}

export function tagImage(storage: CacheStorage, source: string, target: string): ImageEntry {
  const found = findImage(storage, source);
  let name: string;
  try {
    name = normalizeImageRef(target);
  } catch (e) {
    if (e instanceof InvalidReferenceError) throw new UserInputError('INVALID_REFERENCE', e.message, { cause: e });
    throw e;
  }
  const image = { manifestDigest: found.entry.manifestDigest, configDigest: found.entry.configDigest, mediaType: found.entry.mediaType };
  return storage.db.write(() => putName(storage.images, name, image));
}
