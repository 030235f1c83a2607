/**
 * File ops resolve paths inside their root with src/util/root-path.ts (chroot-like: `..` stops at
 * the root, absolute symlink targets start again at it); this adapter reports a symlink loop in
 * the file-op error catalog, with the instruction's location.
 */
import type { SourceLocation } from '../../util/errors.js';
import { resolveInRoot as resolveScoped, type RootedPath } from '../../util/root-path.js';
import { fileOpUserError } from './errors.js';

export interface ResolveOptions {
  /** Follow the last component when it is a symlink. Intermediate components are always followed. */
  readonly followFinal: boolean;
  readonly location?: SourceLocation | undefined;
}

/** Resolves `p` (absolute or relative to the root) inside `root`. Missing components resolve lexically. */
export function resolveInRoot(root: string, p: string, opts: ResolveOptions): Promise<RootedPath> {
  return resolveScoped(root, p, {
    followFinal: opts.followFinal,
    loopError: (at) => fileOpUserError('FILEOP_SYMLINK_LOOP', [at], { location: opts.location }),
  });
}
