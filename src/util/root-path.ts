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
import { lstatSync, readlinkSync } from 'node:fs';
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

/** One filesystem question the walk asks: is this host path a symlink (lstat), or what is its target? */
type Ask = { readonly lstat: string } | { readonly readlink: string };

/**
 * The walk itself, as a generator that yields each question and takes the answer (`lstat`: true
 * for a symlink, false for anything else, undefined when missing; `readlink`: the target), so that
 * one algorithm serves both the async and the sync resolver.
 */
function* walk(root: string, p: string, opts: RootResolveOptions): Generator<Ask, RootedPath, boolean | string | undefined> {
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
    const link = yield { lstat: host };
    const here = link !== undefined;
    if (link !== true || (isLast && !opts.followFinal)) {
      resolved.push(c);
      found.push(here);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      const at = '/' + [...resolved, c].join('/');
      throw opts.loopError?.(at) ?? new TsbuildError('SYMLINK_LOOP', `too many levels of symbolic links resolving ${p} (at ${at})`);
    }
    const target = (yield { readlink: host }) as string;
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

/** lstat's answer for the walk: a symlink or not; undefined when the path is missing. */
function linkAnswer(st: { isSymbolicLink(): boolean } | undefined): boolean | undefined {
  return st === undefined ? undefined : st.isSymbolicLink();
}

function missing(e: unknown): undefined {
  if (!isNotFound(e)) throw e;
  return undefined;
}

/** Resolves `p` (absolute or relative to the root) inside `root`. Missing components resolve lexically. */
export async function resolveInRoot(root: string, p: string, opts: RootResolveOptions): Promise<RootedPath> {
  const w = walk(root, p, opts);
  for (let step = w.next(); ; ) {
    if (step.done === true) return step.value;
    const ask = step.value;
    step = w.next('lstat' in ask ? linkAnswer(await lstat(ask.lstat).catch(missing)) : await readlink(ask.readlink));
  }
}

/**
 * resolveInRoot with synchronous calls: for the few lookups on a step's critical path (a RUN's
 * mountpoints and working directory, a COPY's literal source checksum), where a thread-pool trip per component waits behind other
 * builds' file I/O (the eager layer tar of the step before) and costs more than the call.
 */
export function resolveInRootSync(root: string, p: string, opts: RootResolveOptions): RootedPath {
  const w = walk(root, p, opts);
  for (let step = w.next(); ; ) {
    if (step.done === true) return step.value;
    const ask = step.value;
    let answer: boolean | string | undefined;
    if ('lstat' in ask) {
      try {
        answer = linkAnswer(lstatSync(ask.lstat));
      } catch (e) {
        answer = missing(e);
      }
    } else {
      answer = readlinkSync(ask.readlink);
    }
    step = w.next(answer);
  }
}
