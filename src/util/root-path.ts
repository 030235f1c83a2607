/**
 * Path resolution scoped to a root directory, as if the process had chroot()ed into it: `..`
 * stops at the root and a symlink's absolute target starts again at the root, so a symlink to
 * `/etc` or `../../x` inside a snapshot, a container rootfs or a build context never sends a read
 * or write to the host. The one resolver for file ops, the runtime (mountpoints, /etc/passwd) and
 * context checksums.
 *
 * It walks with lstat/readlink one component at a time, as continuity's RootPath (BuildKit's
 * COPY and user lookup) does, with its limit of 255 symlinks per lookup. The roots are private to
 * one operation, so the check-then-use window is not a threat model we defend against; see
 * docs/fileops.md.
 */
import { lstat, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { TsbuildError } from './errors.js';

/** Symlinks followed in one lookup before giving up: continuity's (BuildKit's) 255, not Linux's 40. */
export const MAX_SYMLINKS = 255;

export interface RootResolveOptions {
  /** Follow the last component when it is a symlink. Intermediate components are always followed. */
  readonly followFinal: boolean;
  /** The error for a symlink loop at `at` (the in-root path of the link). Default: TsbuildError SYMLINK_LOOP. */
  readonly loopError?: (at: string) => Error;
}

export interface RootedPath {
  /** Absolute host path (root joined with the resolved components). */
  readonly host: string;
  /** The same path as seen from inside the root, always absolute (`/a/b`, `/` for the root). */
  readonly inRoot: string;
  /** False when some component did not exist (it and the rest were then taken as written). */
  readonly exists: boolean;
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

function isNotFound(e: unknown): boolean {
  const code = typeof e === 'object' && e !== null && 'code' in e ? (e as { code: unknown }).code : undefined;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Resolves `p` (absolute or relative to the root) inside `root`. Missing components resolve lexically. */
export async function resolveInRoot(root: string, p: string, opts: RootResolveOptions): Promise<RootedPath> {
  const pending = splitComponents(p);
  const resolved: string[] = [];
  /** Whether each resolved component existed (a `..` after a missing one may lead back to real ones). */
  const found: boolean[] = [];
  let links = 0;
  while (pending.length > 0) {
    const c = pending.shift() as string;
    if (c === '.') continue;
    if (c === '..') {
      resolved.pop();
      found.pop();
      continue;
    }
    const isLast = pending.every((r) => r === '.');
    const host = posix.join(root, ...resolved, c);
    let isLink = false;
    let here = true;
    try {
      isLink = (await lstat(host)).isSymbolicLink();
    } catch (e) {
      if (!isNotFound(e)) throw e;
      here = false;
    }
    if (!isLink || (isLast && !opts.followFinal)) {
      resolved.push(c);
      found.push(here);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      const at = '/' + [...resolved, c].join('/');
      throw opts.loopError?.(at) ?? new TsbuildError('SYMLINK_LOOP', `too many levels of symbolic links resolving ${p} (at ${at})`);
    }
    const target = await readlink(host);
    if (target.startsWith('/')) {
      resolved.length = 0;
      found.length = 0;
    }
    pending.unshift(...splitComponents(target));
  }
  const exists = found.every((f) => f);
  const inRoot = '/' + resolved.join('/');
  return { host: hostPathOf(root, inRoot), inRoot, exists };
}
