/**
 * Ownership, permission bits, extended attributes and times of a written entry. The order matters:
 * chown first (the kernel clears setuid/setgid bits and `security.capability` on chown), then chmod,
 * then xattrs (so file capabilities survive), then times last (every other change touches ctime,
 * and creating children touches a directory's mtime).
 */
import { chmod, lchown } from 'node:fs/promises';
import { lutimesSync, type Stats } from 'node:fs';
import { getAttribute, listAttributesSync, setAttribute } from '@napi-rs/xattr';
import { applyModeSpec, type ModeSpec } from './chmod.js';
import { fileOpIoError } from './errors.js';
import type { CopiedAttrs, Owner } from './types.js';

/** What to change on copied entries; undefined fields keep the source's value. */
export interface MetadataOverrides {
  readonly owner: Owner | undefined;
  readonly mode: ModeSpec | undefined;
  /** Unix seconds for atime and mtime. */
  readonly time: number | undefined;
}

/** Overlay's own bookkeeping attributes describe a layer, not a file; they never travel. */
export function copyableXattr(name: string): boolean {
  return !name.startsWith('trusted.overlay.') && !name.startsWith('user.overlay.');
}

/** The names of `path`'s extended attributes; undefined when they cannot be listed. */
export function xattrNames(path: string): string[] | undefined {
  try {
    return listAttributesSync(path);
  } catch {
    return undefined;
  }
}

/** errno of an @napi-rs/xattr error ("... (os error 95)"). */
function xattrErrno(e: unknown): number | undefined {
  const m = /\(os error (\d+)\)/.exec(e instanceof Error ? e.message : String(e));
  return m ? Number(m[1]) : undefined;
}

const EPERM = 1;
const ENODATA = 61;
const EOPNOTSUPP = 95;

/**
 * Copies extended attributes (including `security.capability`) from `src` to `dst`, never following
 * symlinks. The listing is a synchronous call: one read-only system call on an inode the copy has
 * just looked up, cheaper than a trip through the thread pool — and almost every file has none, so
 * for most files it is the only xattr call (issue 14).
 */
export async function copyXattrs(src: string, dst: string, opts: { readonly isSymlink: boolean }): Promise<void> {
  let names: string[];
  try {
    names = listAttributesSync(src);
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
 * What a freshly created entry already has: the owner the kernel gave it and the permission bits its
 * creation set. With it, applyCopiedMetadata leaves out the chown and chmod calls that would change
 * nothing (most COPYs of context files: root-owned, mode kept), as `cp -a` does.
 */
export interface CreatedState {
  readonly uid: number;
  readonly gid: number;
  /** Permission bits after creation; undefined when unknown (a symlink has none to set). */
  readonly bits: number | undefined;
}

/** The owner and permission bits a copy of an entry (lstat `st`) gets, with the overrides. */
export function copiedAttrs(st: Stats, ov: MetadataOverrides): CopiedAttrs {
  return {
    uid: ov.owner?.uid ?? st.uid,
    gid: ov.owner?.gid ?? st.gid,
    bits: ov.mode ? applyModeSpec(ov.mode, st.mode, st.isDirectory()) : st.mode & 0o7777,
  };
}

/**
 * Gives `dst` the metadata of the source entry `src` (whose lstat is `st`), with the overrides.
 * Times are set by the caller for directories (after their children), so `skipTimes` lets it defer.
 * `created` (see CreatedState) lets calls that would not change anything be skipped.
 */
export async function applyCopiedMetadata(
  src: string,
  st: Stats,
  dst: string,
  ov: MetadataOverrides,
  opts: { readonly skipTimes?: boolean; readonly created?: CreatedState | undefined } = {},
): Promise<void> {
  const kind = entryKind(st);
  const { uid, gid, bits: wanted } = copiedAttrs(st, ov);
  const c = opts.created;
  try {
    const chown = c === undefined || c.uid !== uid || c.gid !== gid;
    if (chown) await lchown(dst, uid, gid);
    if (kind !== 'symlink') {
      const bits = wanted;
      // A chown clears the setuid and setgid bits of a regular file, even for root (Linux ≥ 2.2.13).
      if (c?.bits !== bits || (chown && (bits & 0o6000) !== 0)) await chmod(dst, bits);
    }
  } catch (e) {
    throw fileOpIoError(`set owner and mode of ${dst}`, e);
  }
  await copyXattrs(src, dst, { isSymlink: kind === 'symlink' });
  if (!opts.skipTimes) await setTimes(dst, st, ov.time);
}

/**
 * Sets atime/mtime to the source's (from `st`) or to the override, without following symlinks.
 * Synchronous, like the layer applier's: one system call on an inode just written, cheaper than a
 * thread-pool trip, and done for every copied entry (issue 14).
 */
export async function setTimes(dst: string, st: Pick<Stats, 'atimeMs' | 'mtimeMs'>, override: number | undefined): Promise<void> {
  const atime = override ?? st.atimeMs / 1000;
  const mtime = override ?? st.mtimeMs / 1000;
  try {
    lutimesSync(dst, atime, mtime);
  } catch (e) {
    throw fileOpIoError(`set times of ${dst}`, e);
  }
}
