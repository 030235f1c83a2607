/**
 * The agreed data-root layout (docs/cache.md). Every engineer's code derives its paths from here
 * or from the same literal names.
 */
import { mkdir, mkdtemp, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UserInputError } from '../util/errors.js';
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

/**
 * Creates the data root itself, one component at a time from its deepest existing ancestor.
 * Node's `mkdir(…, { recursive: true })` never returns for a path under /proc (mkdir there fails
 * with ENOENT however often the parent is "created", and Node retries forever, spinning a core);
 * a component-wise walk fails once, with the path that could not be made.
 */
export async function ensureDataRoot(root: string): Promise<void> {
  const missing: string[] = [];
  for (let p = resolve(root); ; p = dirname(p)) {
    const st = await stat(p).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
      throw new UserInputError('DATA_ROOT_UNUSABLE', `data root ${root}: cannot use ${p}: ${e.message}`);
    });
    if (st) {
      if (!st.isDirectory()) throw new UserInputError('DATA_ROOT_UNUSABLE', `data root ${root}: ${p} is not a directory`);
      break;
    }
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const dir of missing) {
    await mkdir(dir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EEXIST') return;
      throw new UserInputError('DATA_ROOT_UNUSABLE', `data root ${root}: cannot create ${dir}: ${e.code ?? e.message}`);
    });
  }
}

/** Creates the directories the cache layer owns (content store, tmp). */
export async function ensureCacheDirs(paths: DataRootPaths): Promise<void> {
  await ensureDataRoot(paths.root);
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
