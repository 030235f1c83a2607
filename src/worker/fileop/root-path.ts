/**
 * Path resolution scoped to a root directory, as if the process had chroot()ed into it: `..` stops
 * at the root and a symlink's absolute target starts again at the root. This is what keeps a
 * symlink to `/etc` or `../../x` inside a snapshot from sending a read or write to the host.
 *
 * It resolves with lstat/readlink one component at a time (continuity's RootPath semantics). The
 * roots handed to file ops are private to one step, so the check-then-use window is not a threat
 * model we defend against; see docs/fileops.md.
 */
import { lstat, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import type { SourceLocation } from '../../util/errors.js';
import { fileOpUserError, isNotFound } from './errors.js';

/** Linux's own limit on symlinks followed in one lookup is 40; BuildKit allows 255. */
const MAX_LINKS = 255;

export interface ResolveOptions {
  /** Follow the last component when it is a symlink. Intermediate components are always followed. */
  readonly followFinal: boolean;
  readonly location?: SourceLocation | undefined;
}

export interface RootedPath {
  /** Absolute host path (root joined with the resolved components). */
  readonly host: string;
  /** The same path as seen from inside the root, always absolute (`/a/b`, `/` for the root). */
  readonly inRoot: string;
}

/** Path components, dropping empty ones (so `a//b/` and `/a/b` split alike). */
export function splitComponents(p: string): string[] {
  return p.split('/').filter((c) => c !== '');
}

/** `/`-rooted clean form of a path inside a root (lexical: `..` clamps at `/`). */
export function cleanRooted(p: string): string {
  return posix.resolve('/', p);
}

/** Joins a root and an in-root path. */
export function hostPathOf(root: string, inRoot: string): string {
  return inRoot === '/' || inRoot === '' ? root : posix.join(root, inRoot);
}

/** Resolves `p` (absolute or relative to the root) inside `root`. Missing components resolve lexically. */
export async function resolveInRoot(root: string, p: string, opts: ResolveOptions): Promise<RootedPath> {
  const pending = splitComponents(p);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const c = pending.shift() as string;
    if (c === '.') continue;
    if (c === '..') {
      resolved.pop();
      continue;
    }
    const isLast = pending.every((r) => r === '.');
    if (isLast && !opts.followFinal) {
      resolved.push(c);
      break;
    }
    const host = posix.join(root, ...resolved, c);
    let isLink = false;
    try {
      isLink = (await lstat(host)).isSymbolicLink();
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (!isLink) {
      resolved.push(c);
      continue;
    }
    if (++links > MAX_LINKS) {
      throw fileOpUserError('FILEOP_SYMLINK_LOOP', ['/' + [...resolved, c].join('/')], { location: opts.location });
    }
    const target = await readlink(host);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...splitComponents(target));
  }
  const inRoot = '/' + resolved.join('/');
  return { host: hostPathOf(root, inRoot), inRoot };
}
