/**
 * FileActionMkDir (WORKDIR, `llb.Mkdir`). As BuildKit: the path is resolved inside the root with
 * symlinks followed; without `makeParents` an existing path is fine and a missing parent is an
 * error; new directories get the mode, owner and timestamp (existing ones are left alone).
 */
import { chmod, lchown, lstat, mkdir as mkdirFs } from 'node:fs/promises';
import { posix } from 'node:path';
import { throwIfAborted } from '../../util/errors.js';
import { errnoCode, fileOpIoError, fileOpUserError } from './errors.js';
import { setTimes } from './metadata.js';
import { mkdirAllInRoot } from './mkdirp.js';
import { resolveOwner } from './owner.js';
import { resolveInRoot } from './root-path.js';
import { cleanRooted } from '../../util/root-path.js';
import { timestampSeconds } from './timestamp.js';
import type { FileOpContext, MkdirAction } from './types.js';

/** Runs a mkdir action in `ctx.destRoot`; returns the host paths it created. */
export async function mkdirAction(action: MkdirAction, ctx: FileOpContext): Promise<readonly string[]> {
  throwIfAborted(ctx.signal);
  const loc = ctx.location;
  const raw = action.path ?? '';
  const inRoot = cleanRooted(raw.startsWith('/') ? raw : posix.join(ctx.cwd ?? '/', raw));
  const mode = (action.mode ?? 0o755) & 0o7777;
  const owner = await resolveOwner(action.owner, { root: ctx.ownerRoot ?? ctx.destRoot, location: loc });
  const time = timestampSeconds(action);
  let created: readonly string[];
  if (action.makeParents) {
    created = (await mkdirAllInRoot(inRoot, { root: ctx.destRoot, mode, owner, location: loc })).created;
  } else {
    const p = await resolveInRoot(ctx.destRoot, inRoot, { followFinal: true, location: loc });
    try {
      await mkdirFs(p.host, mode);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EEXIST') return [];
      if (code === 'ENOENT') throw fileOpUserError('FILEOP_PATH_NOT_FOUND', [posix.dirname(p.inRoot)], { location: loc });
      if (code === 'ENOTDIR') throw fileOpUserError('FILEOP_PARENT_NOT_DIR', [posix.dirname(p.inRoot)], { location: loc });
      throw fileOpIoError(`mkdir ${p.inRoot}`, e);
    }
    try {
      await chmod(p.host, mode);
      if (owner) await lchown(p.host, owner.uid, owner.gid);
    } catch (e) {
      throw fileOpIoError(`mkdir ${p.inRoot}`, e);
    }
    created = [p.host];
  }
  if (time !== undefined) {
    for (const dir of [...created].reverse()) await setTimes(dir, await lstat(dir), time);
  }
  return created;
}
