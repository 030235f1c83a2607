/**
 * `tsbuild image load`: images from `docker save` archives (legacy and OCI-layout flavoured) and
 * OCI image layout tarballs, into the local store.
 */
import type { CacheStorage } from '../cache/cache-storage.js';
import type { ImageEntry } from '../cache/types.js';
import { TsbuildError } from '../util/errors.js';

export interface LoadOptions {
  readonly source: string;
  readonly stdin?: NodeJS.ReadableStream;
  readonly signal: AbortSignal;
}

export async function loadImages(storage: CacheStorage, opts: LoadOptions): Promise<ImageEntry[]> {
  void storage;
  throw new TsbuildError('NOT_IMPLEMENTED', `image load of ${opts.source} is not implemented yet`);
}
