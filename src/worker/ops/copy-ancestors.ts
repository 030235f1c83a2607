/**
 * The destination's ancestors of a direct COPY (incremental-copy.ts) that the parent layers already
 * have: `COPY f* /data/files/` after `RUN mkdir -p /data`. Through the overlay mount, creating
 * /data/files copies /data up into the upper dir first; writing straight into `diff/` must leave the
 * same directory there (docs/incremental-copy.md, "Existing ancestors").
 *
 * What overlayfs' copy-up leaves, checked on this kernel with index/redirect_dir/metacopy off: the
 * nearest lower layer's directory, with its xattrs (its overlay-private ones aside), mode, owner, and
 * atime and mtime to the nanosecond; the parent's times are restored after the copy-up, so an
 * ancestor that only receives copied-up children keeps the lower's mtime, and only the directory a
 * new entry is created in gets the creation time. Its own `trusted.overlay.origin`/`impure` marks
 * are not reproduced: they describe one upper dir to overlayfs, and no layer tar carries them.
 *
 * Only the plain case is taken: each existing ancestor is a real directory in the nearest layer that
 * has it, and no layer that overlayfs merges there marks it opaque; the first missing component is
 * missing in every such layer (a whiteout there would make overlayfs create the new directory
 * opaque); a destination that exists itself must be an empty directory in every merged layer (so
 * the copier finds nothing to replace or merge into). Anything else is a full copy.
 */
import { execFile } from 'node:child_process';
import type { Stats } from 'node:fs';
import { lstatSync, lutimesSync, readdirSync } from 'node:fs';
import { chmod, lchown, lstat, mkdir, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { getAttributeSync } from '@napi-rs/xattr';
import { copyXattrs } from '../fileop/metadata.js';
import { fileOpIoError } from '../fileop/errors.js';
import { nativeSys, splitNs } from '../../util/native-sys.js';

/** A destination ancestor the parent layers show as a directory. */
export interface LowerAncestor {
  /** Path below `diff/`, e.g. `data` or `usr/local`. */
  readonly rel: string;
  /** The directory overlayfs would copy up: the one in the nearest layer that has the name. */
  readonly lower: string;
  readonly stat: Stats;
}

function opaque(p: string): boolean {
  try {
    return getAttributeSync(p, 'trusted.overlay.opaque') !== null;
  } catch {
    return true; // cannot tell: take the full copy
  }
}

/**
 * The existing ancestors of the destination `components` (a clean in-root path, split) in the
 * parents' `diff/` dirs (nearest first), outermost first; undefined when writing into a bare
 * `diff/` could differ from writing through the overlay (see the header).
 */
export function lowerAncestors(diffDirs: readonly string[], components: readonly string[]): LowerAncestor[] | undefined {
  if (diffDirs.some(opaque)) return undefined;
  let stack: readonly string[] = diffDirs;
  const out: LowerAncestor[] = [];
  for (let i = 0; i < components.length; i++) {
    const name = components[i] as string;
    let top: { readonly path: string; readonly stat: Stats } | undefined;
    const merged: string[] = [];
    for (const dir of stack) {
      const path = join(dir, name);
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st === undefined) continue;
      // A whiteout, file or symlink: on top it hides the name (or redirects it); below a
      // directory it ends the merge.
      if (!st.isDirectory()) {
        if (top === undefined) return undefined;
        break;
      }
      if (opaque(path)) return undefined;
      top ??= { path, stat: st };
      merged.push(path);
    }
    if (top === undefined) return out;
    out.push({ rel: components.slice(0, i + 1).join('/'), lower: top.path, stat: top.stat });
    stack = merged;
  }
  // The destination itself exists: only an empty one is written alike.
  for (const dir of stack) if (readdirSync(dir).length > 0) return undefined;
  return out;
}

async function copyTimes(ref: string, target: string, signal: AbortSignal): Promise<void> {
  // Node sets times in (double) seconds, which cannot hold every nanosecond value; utimensat through
  // the native module (or touch -r without it) copies atime and mtime exactly, as copy-up does.
  const sys = nativeSys();
  if (sys !== undefined) {
    try {
      const st = await lstat(ref, { bigint: true });
      sys.lutimes(target, ...splitNs(st.atimeNs), ...splitNs(st.mtimeNs));
    } catch (e) {
      throw fileOpIoError(`set times of ${target}`, e);
    }
    return;
  }
  await new Promise<void>((resolve, reject) => {
    execFile('touch', ['-h', '-r', ref, target], { signal }, (err, _out, stderr) => {
      if (err) reject(fileOpIoError(`set times of ${target}`, new Error(String(stderr || err.message).trim())));
      else resolve();
    });
  });
}

/**
 * Creates the ancestors in `diff` as copy-up would: outermost first, each with the lower's xattrs,
 * owner and mode; then their times, innermost first (creating a child moves a directory's mtime).
 * The times of `diff` itself, which copy-up restores, are put back.
 */
export async function makeAncestors(diff: string, ancestors: readonly LowerAncestor[], signal: AbortSignal): Promise<void> {
  if (ancestors.length === 0) return;
  const root = await lstat(diff);
  for (const a of ancestors) {
    const p = join(diff, a.rel);
    try {
      await mkdir(p, 0o700);
      await copyXattrs(a.lower, p, { isSymlink: false });
      await lchown(p, a.stat.uid, a.stat.gid);
      await chmod(p, a.stat.mode & 0o7777);
    } catch (e) {
      throw fileOpIoError(`copy up ${a.rel}`, e);
    }
  }
  for (const a of [...ancestors].reverse()) await copyTimes(a.lower, join(diff, a.rel), signal);
  lutimesSync(diff, root.atimeMs / 1000, root.mtimeMs / 1000);
}

/**
 * After the copy: when it wrote nothing (an empty wildcard match), overlayfs would have copied
 * nothing up, so the ancestors made for it are removed again.
 */
export async function dropUnusedAncestors(diff: string, ancestors: readonly LowerAncestor[]): Promise<void> {
  const last = ancestors[ancestors.length - 1];
  if (last === undefined || (await readdir(join(diff, last.rel))).length > 0) return;
  const root = await lstat(diff);
  for (const a of [...ancestors].reverse()) await rmdir(join(diff, a.rel));
  lutimesSync(diff, root.atimeMs / 1000, root.mtimeMs / 1000);
}
