/**
 * FileActionMkFile (heredoc files, `llb.Mkfile`): writes `data` to a path inside the root, creating
 * or truncating it, then sets mode, owner and times. A symlink at the path is followed inside the
 * root (as BuildKit does); the parent must exist.
 */
import { chmod, lchown, open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { posix } from 'node:path';
import { throwIfAborted } from '../../util/errors.js';
import { errnoCode, fileOpIoError, fileOpUserError } from './errors.js';
import { setTimes } from './metadata.js';
import { resolveOwner } from './owner.js';
import { resolveInRoot } from './root-path.js';
import { cleanRooted } from '../../util/root-path.js';
import { timestampSeconds } from './timestamp.js';
import type { FileOpContext, MkfileAction } from './types.js';

/** Runs a mkfile action in `ctx.destRoot`; returns the host path written. */
export async function mkfileAction(action: MkfileAction, ctx: FileOpContext): Promise<string> {
  throwIfAborted(ctx.signal);
  const loc = ctx.location;
  const raw = action.path ?? '';
  const inRoot = cleanRooted(raw.startsWith('/') ? raw : posix.join(ctx.cwd ?? '/', raw));
  if (inRoot === '/') throw fileOpUserError('FILEOP_IS_A_DIRECTORY', ['/'], { location: loc });
  const mode = (action.mode ?? 0o644) & 0o7777;
  const owner = await resolveOwner(action.owner, { root: ctx.ownerRoot ?? ctx.destRoot, location: loc });
  const p = await resolveInRoot(ctx.destRoot, inRoot, { followFinal: true, location: loc });
  const data = typeof action.data === 'string' ? Buffer.from(action.data, 'utf8') : Buffer.from(action.data ?? new Uint8Array());
  let fh;
  try {
    fh = await open(p.host, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') throw fileOpUserError('FILEOP_PATH_NOT_FOUND', [posix.dirname(p.inRoot)], { location: loc });
    if (code === 'EISDIR') throw fileOpUserError('FILEOP_IS_A_DIRECTORY', [p.inRoot], { location: loc });
    if (code === 'ENOTDIR') throw fileOpUserError('FILEOP_PARENT_NOT_DIR', [posix.dirname(p.inRoot)], { location: loc });
    throw fileOpIoError(`write ${p.inRoot}`, e);
  }
  try {
    for (let off = 0; off < data.length; ) off += (await fh.write(data, off)).bytesWritten;
  } catch (e) {
    throw fileOpIoError(`write ${p.inRoot}`, e);
  } finally {
    await fh.close();
  }
  try {
    if (owner) await lchown(p.host, owner.uid, owner.gid);
    // After chown (which clears setuid bits) and also for a file that existed with another mode.
    await chmod(p.host, mode);
  } catch (e) {
    throw fileOpIoError(`write ${p.inRoot}`, e);
  }
  const time = timestampSeconds(action);
  if (time !== undefined) await setTimes(p.host, { atimeMs: 0, mtimeMs: 0 }, time);
  return p.host;
}
