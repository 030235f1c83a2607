/**
 * Ownership, permission bits, extended attributes and times of a written entry. The order matters:
 * chown first (the kernel clears setuid/setgid bits and `security.capability` on chown), then chmod,
 * then xattrs (so file capabilities survive), then times last (every other change touches ctime,
 * and creating children touches a directory's mtime).
 */
import { chmod, lchown, lutimes } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { getAttribute, listAttributes, setAttribute } from '@napi-rs/xattr';
import { applyModeSpec, type ModeSpec } from './chmod.js';
import { fileOpIoError } from './errors.js';
import type { Owner } from './types.js';

/** What to change on copied entries; undefined fields keep the source's value. */
export interface MetadataOverrides {
  readonly owner: Owner | undefined;
  readonly mode: ModeSpec | undefined;
  /** Unix seconds for atime and mtime. */
  readonly time: number | undefined;
}

/** Overlay's own bookkeeping attributes describe a layer, not a file; they never travel. */
function copyableXattr(name: string): boolean {
  return !name.startsWith('trusted.overlay.') && !name.startsWith('user.overlay.');
}

/** errno of an @napi-rs/xattr error ("... (os error 95)"). */
function xattrErrno(e: unknown): number | undefined {
  const m = /\(os error (\d+)\)/.exec(e instanceof Error ? e.message : String(e));
  return m ? Number(m[1]) : undefined;
}

const EPERM = 1;
const ENODATA = 61;
const EOPNOTSUPP = 95;

/** Copies extended attributes (including `security.capability`) from `src` to `dst`, never following symlinks. */
export async function copyXattrs(src: string, dst: string, opts: { readonly isSymlink: boolean }): Promise<void> {
  let names: string[];
  try {
    names = await listAttributes(src);
  } catch (e) {
    if (xattrErrno(e) === EOPNOTSUPP) return;
    throw fileOpIoError(`list xattrs of ${src}`, e);
  }
  for (const name of names) {
    if (!copyableXattr(name)) continue;
    try {
      const value = await getAttribute(src, name);
      if (value === null) continue;
      await setAttribute(dst, name, value);
    } catch (e) {
      const errno = xattrErrno(e);
      // user.* attributes cannot live on symlinks; a filesystem without xattrs cannot take any.
      if (errno === EOPNOTSUPP || errno === ENODATA || (opts.isSymlink && errno === EPERM)) continue;
      throw fileOpIoError(`copy xattr ${name} to ${dst}`, e);
    }
  }
}

/** Sets one extended attribute (from a tar PAX header), with the same tolerance as copyXattrs. */
export async function setXattr(path: string, name: string, value: Buffer, opts: { readonly isSymlink: boolean }): Promise<void> {
  if (!copyableXattr(name)) return;
  try {
    await setAttribute(path, name, value);
  } catch (e) {
    const errno = xattrErrno(e);
    if (errno === EOPNOTSUPP || (opts.isSymlink && errno === EPERM)) return;
    throw fileOpIoError(`set xattr ${name} on ${path}`, e);
  }
}

export type EntryKind = 'dir' | 'file' | 'symlink' | 'special';

export function entryKind(st: Stats): EntryKind {
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return 'file';
  return 'special';
}

/**
 * Gives `dst` the metadata of the source entry `src` (whose lstat is `st`), with the overrides.
 * Times are set by the caller for directories (after their children), so `skipTimes` lets it defer.
 */
export async function applyCopiedMetadata(
  src: string,
  st: Stats,
  dst: string,
  ov: MetadataOverrides,
  opts: { readonly skipTimes?: boolean } = {},
): Promise<void> {
  const kind = entryKind(st);
  try {
    await lchown(dst, ov.owner?.uid ?? st.uid, ov.owner?.gid ?? st.gid);
    if (kind !== 'symlink') {
      const bits = ov.mode ? applyModeSpec(ov.mode, st.mode, kind === 'dir') : st.mode & 0o7777;
      await chmod(dst, bits);
    }
  } catch (e) {
    throw fileOpIoError(`set owner and mode of ${dst}`, e);
  }
  await copyXattrs(src, dst, { isSymlink: kind === 'symlink' });
  if (!opts.skipTimes) await setTimes(dst, st, ov.time);
}

/** Sets atime/mtime to the source's (from `st`) or to the override, without following symlinks. */
export async function setTimes(dst: string, st: Pick<Stats, 'atimeMs' | 'mtimeMs'>, override: number | undefined): Promise<void> {
  const atime = override ?? st.atimeMs / 1000;
  const mtime = override ?? st.mtimeMs / 1000;
  try {
    await lutimes(dst, atime, mtime);
  } catch (e) {
    throw fileOpIoError(`set times of ${dst}`, e);
  }
}
