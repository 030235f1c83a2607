/**
 * FileActionSymlink: creates `newpath` (its parent resolved inside the root) pointing at `oldpath`,
 * stored verbatim — the target is never resolved on the host. An existing entry is an error.
 */
import { lchown, symlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { throwIfAborted } from '../../util/errors.js';
import { errnoCode, fileOpIoError, fileOpUserError } from './errors.js';
import { setTimes } from './metadata.js';
import { resolveOwner } from './owner.js';
import { resolveInRoot } from './root-path.js';
import { cleanRooted } from '../../util/root-path.js';
import { timestampSeconds } from './timestamp.js';
import type { FileOpContext, SymlinkAction } from './types.js';

/** Runs a symlink action in `ctx.destRoot`; returns the host path of the link. */
export async function symlinkAction(action: SymlinkAction, ctx: FileOpContext): Promise<string> {
  throwIfAborted(ctx.signal);
  const loc = ctx.location;
  const raw = action.newpath ?? '';
  const inRoot = cleanRooted(raw.startsWith('/') ? raw : posix.join(ctx.cwd ?? '/', raw));
  if (inRoot === '/') throw fileOpUserError('FILEOP_PATH_EXISTS', ['/'], { location: loc });
  const target = action.oldpath ?? '';
  if (target === '') throw fileOpUserError('FILEOP_BAD_PATH', ['', 'a symlink needs a target'], { location: loc });
  const owner = await resolveOwner(action.owner, { root: ctx.ownerRoot ?? ctx.destRoot, location: loc });
  const parent = await resolveInRoot(ctx.destRoot, posix.dirname(inRoot), { followFinal: true, location: loc });
  const host = posix.join(parent.host, posix.basename(inRoot));
  const shown = posix.join(parent.inRoot, posix.basename(inRoot));
  try {
    await symlink(target, host);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'EEXIST') throw fileOpUserError('FILEOP_PATH_EXISTS', [shown], { location: loc });
    if (code === 'ENOENT') throw fileOpUserError('FILEOP_PATH_NOT_FOUND', [parent.inRoot], { location: loc });
    if (code === 'ENOTDIR') throw fileOpUserError('FILEOP_PARENT_NOT_DIR', [parent.inRoot], { location: loc });
    throw fileOpIoError(`symlink ${shown}`, e);
  }
  try {
    if (owner) await lchown(host, owner.uid, owner.gid);
  } catch (e) {
    throw fileOpIoError(`symlink ${shown}`, e);
  }
  const time = timestampSeconds(action);
  if (time !== undefined) await setTimes(host, { atimeMs: 0, mtimeMs: 0 }, time);
  return host;
}
