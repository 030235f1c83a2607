/**
 * FileActionRm. The parent of each path is resolved inside the root (symlinks followed); the last
 * component is never followed, so removing a symlink removes the link, not its target. With
 * `allowWildcard` the path is a pattern (an empty match removes nothing); without `allowNotFound`
 * a literal path that does not exist is an error.
 */
import { lstat, rm } from 'node:fs/promises';
import { posix } from 'node:path';
import { throwIfAborted, type SourceLocation } from '../../util/errors.js';
import { fileOpIoError, fileOpUserError, isNotFound } from './errors.js';
import { resolveInRoot } from './root-path.js';
import { cleanRooted } from '../../util/root-path.js';
import type { FileOpContext, RmAction } from './types.js';
import { expandSource } from './wildcard.js';

/** Runs an rm action in `ctx.destRoot`; returns the in-root paths removed. */
export async function rmAction(action: RmAction, ctx: FileOpContext): Promise<readonly string[]> {
  throwIfAborted(ctx.signal);
  const loc = ctx.location;
  const raw = action.path ?? '';
  const inRoot = cleanRooted(raw.startsWith('/') ? raw : posix.join(ctx.cwd ?? '/', raw));
  const expansion = await expandSource({
    root: ctx.destRoot,
    base: '/',
    pattern: inRoot.slice(1),
    allowWildcard: !!action.allowWildcard,
    location: loc,
  });
  const removed: string[] = [];
  for (const m of expansion.matches) {
    throwIfAborted(ctx.signal);
    if (await removeOne(ctx.destRoot, m.inRoot, !!action.allowNotFound || expansion.wildcard, loc)) removed.push(m.inRoot);
  }
  return removed;
}

async function removeOne(root: string, inRoot: string, allowNotFound: boolean, loc: SourceLocation | undefined): Promise<boolean> {
  const clean = cleanRooted(inRoot);
  if (clean === '/') throw fileOpUserError('FILEOP_BAD_PATH', [inRoot, 'cannot remove the root'], { location: loc });
  const parent = await resolveInRoot(root, posix.dirname(clean), { followFinal: true, location: loc });
  const host = posix.join(parent.host, posix.basename(clean));
  try {
    await lstat(host);
  } catch (e) {
    if (!isNotFound(e)) throw fileOpIoError(`stat ${clean}`, e);
    if (allowNotFound) return false;
    throw fileOpUserError('FILEOP_PATH_NOT_FOUND', [clean], { location: loc });
  }
  try {
    await rm(host, { recursive: true, force: true });
  } catch (e) {
    throw fileOpIoError(`remove ${clean}`, e);
  }
  return true;
}
