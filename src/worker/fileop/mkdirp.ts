/**
 * `mkdir -p` inside a root. Like BuildKit's fsutil MkdirAll, directories it creates get the given
 * mode and owner (a `--chown` applies to the destination parents a COPY creates, and its
 * `timestamp` once the copy is done); existing ones are left alone.
 */
import { chmod, lchown, lstat, mkdir } from 'node:fs/promises';
import { posix } from 'node:path';
import type { SourceLocation } from '../../util/errors.js';
import { errnoCode, fileOpIoError, fileOpUserError, isNotFound } from './errors.js';
import { setTimes } from './metadata.js';
import { resolveInRoot } from './root-path.js';
import { splitComponents, type RootedPath } from '../../util/root-path.js';
import type { Owner } from './types.js';

export interface MkdirAllOptions {
  readonly root: string;
  /** Permission bits of created directories (applied exactly, whatever the umask). */
  readonly mode: number;
  /** Owner of created directories; undefined leaves the process's (root's) ownership. */
  readonly owner: Owner | undefined;
  readonly location?: SourceLocation | undefined;
}

export interface MkdirAllResult extends RootedPath {
  /** Host paths of the directories created, parents first. */
  readonly created: readonly string[];
}

/** Creates `p` (resolved inside the root, symlinks followed) and its missing parents. */
export async function mkdirAllInRoot(p: string, opts: MkdirAllOptions): Promise<MkdirAllResult> {
  const resolved = await resolveInRoot(opts.root, p, { followFinal: true, location: opts.location });
  const created: string[] = [];
  let inRoot = '/';
  for (const c of splitComponents(resolved.inRoot)) {
    inRoot = posix.join(inRoot, c);
    const host = posix.join(opts.root, inRoot);
    let st;
    try {
      st = await lstat(host);
    } catch (e) {
      if (!isNotFound(e)) throw fileOpIoError(`stat ${inRoot}`, e);
    }
    if (st?.isDirectory()) continue;
    if (st) throw fileOpUserError('FILEOP_PARENT_NOT_DIR', [inRoot], { location: opts.location });
    try {
      await mkdir(host, opts.mode);
    } catch (e) {
      // Another action of the same op may have created it meanwhile.
      if (errnoCode(e) === 'EEXIST' && (await lstat(host)).isDirectory()) continue;
      if (errnoCode(e) === 'ENOTDIR') throw fileOpUserError('FILEOP_PARENT_NOT_DIR', [posix.dirname(inRoot)], { location: opts.location });
      throw fileOpIoError(`mkdir ${inRoot}`, e);
    }
    try {
      await chmod(host, opts.mode);
      if (opts.owner) await lchown(host, opts.owner.uid, opts.owner.gid);
    } catch (e) {
      throw fileOpIoError(`mkdir ${inRoot}`, e);
    }
    created.push(host);
  }
  return { ...resolved, created };
}

/** Sets the override time (or keeps) on directories the copy created as destination parents. */
export async function stampCreatedDirs(created: readonly string[], time: number | undefined): Promise<void> {
  if (time === undefined) return;
  for (const dir of [...created].reverse()) await setTimes(dir, { atimeMs: 0, mtimeMs: 0 }, time);
}
