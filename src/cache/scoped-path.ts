/**
 * Resolving a path inside a context root the way COPY sees it: symlinks are followed, but always
 * re-rooted at the context root (an absolute link target means root-relative, `..` stops at the
 * root), so nothing outside the context is ever reached.
 */
import { lstat, readlink } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { TsbuildError } from '../util/errors.js';
import { isErrnoCode } from './fs-durable.js';

const MAX_LINKS = 255;

/** Cleans a selector to a root-relative path without leading slash; '' is the root itself. */
export function cleanRelative(p: string): string {
  const c = posix.normalize(`/${p}`);
  return c === '/' ? '' : c.replace(/^\/+/, '').replace(/\/+$/, '');
}

export interface ResolveOptions {
  /** Follow a symlink in the last component too. */
  readonly followFinal: boolean;
}

/**
 * The root-relative path `rel` designates after resolving symlinks (intermediate always, the last
 * one when followFinal), or undefined when it does not exist.
 */
export async function resolveInRoot(root: string, rel: string, opts: ResolveOptions): Promise<string | undefined> {
  let pending = cleanRelative(rel).split('/').filter((c) => c !== '');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const name = pending[0] as string;
    pending = pending.slice(1);
    const candidate = [...done, name].join('/');
    let st;
    try {
      st = await lstat(join(root, candidate));
    } catch (e) {
      if (isErrnoCode(e, 'ENOENT') || isErrnoCode(e, 'ENOTDIR')) return undefined;
      throw e;
    }
    if (st.isSymbolicLink() && (pending.length > 0 || opts.followFinal)) {
      if (++links > MAX_LINKS) throw new TsbuildError('CONTEXT_SYMLINK_LOOP', `too many levels of symbolic links resolving ${rel}`);
      const target = await readlink(join(root, candidate));
      const base = target.startsWith('/') ? '' : done.join('/');
      pending = [...cleanRelative(`${base}/${target}`).split('/').filter((c) => c !== ''), ...pending];
      done.length = 0;
      continue;
    }
    done.push(name);
  }
  return done.join('/');
}
