/**
 * The agreed data-root layout (docs/cache.md). Every engineer's code derives its paths from here
 * or from the same literal names.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { currentProcess, ownerPrefix } from './process-identity.js';

export interface DataRootPaths {
  readonly root: string;
  readonly overlay2: string;
  readonly content: string;
  readonly blobs: string;
  readonly ingest: string;
  readonly metadataDb: string;
  readonly cacheMounts: string;
  readonly runc: string;
  readonly tmp: string;
}

export function dataRootPaths(root: string): DataRootPaths {
  const content = join(root, 'content');
  return {
    root,
    overlay2: join(root, 'overlay2'),
    content,
    blobs: join(content, 'blobs', 'sha256'),
    ingest: join(content, 'ingest'),
    metadataDb: join(root, 'metadata.db'),
    cacheMounts: join(root, 'cachemounts'),
    runc: join(root, 'runc'),
    tmp: join(root, 'tmp'),
  };
}

/** Creates the directories the cache layer owns (content store, tmp). */
export async function ensureCacheDirs(paths: DataRootPaths): Promise<void> {
  await mkdir(paths.blobs, { recursive: true, mode: 0o700 });
  await mkdir(paths.ingest, { recursive: true, mode: 0o700 });
  await mkdir(paths.tmp, { recursive: true, mode: 0o700 });
}

/**
 * A scratch directory under ROOT/tmp owned by this process. Its name starts with the owner's pid
 * and start time, so check()/repair() can tell a crashed process's leftovers from live work.
 * The caller removes it when done.
 */
export async function makeProcessTempDir(paths: DataRootPaths, label = 'tmp'): Promise<string> {
  await mkdir(paths.tmp, { recursive: true, mode: 0o700 });
  return mkdtemp(join(paths.tmp, `${ownerPrefix(currentProcess())}${label}-`));
}
