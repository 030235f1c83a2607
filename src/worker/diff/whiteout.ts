/**
 * Overlay ↔ OCI whiteouts. overlayfs marks a deleted name with a character device 0/0 and a
 * replaced directory with the xattr `trusted.overlay.opaque=y`; OCI layers say the same with empty
 * files named `.wh.<name>` and `.wh..wh..opq`.
 */
import { getAttributeSync } from '@napi-rs/xattr';
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { makeSpecialFile } from '../fileop/special-files.js';
import { fsPath, utf8Path } from '../snapshot/byte-path.js';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
/** AUFS metadata entries (`.wh..wh.plnk`, …) start with this; they carry nothing for overlay. */
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const OPAQUE_XATTR = 'trusted.overlay.opaque';
/**
 * AUFS kept the data of files hardlinked across layers in this root directory; layers made on
 * AUFS hosts hardlink to the regular files in it.
 */
export const AUFS_LINK_DIR = '.wh..wh.plnk';

/** What a layer entry means for whiteouts, from its path components (see whiteoutRole). */
export type WhiteoutRole =
  | { readonly kind: 'plain' }
  | { readonly kind: 'opaque' }
  | { readonly kind: 'whiteout'; readonly name: string }
  /** A regular file directly in the root's AUFS link dir: a hardlink target, removed after the layer. */
  | { readonly kind: 'aufs-link' }
  /** Other AUFS metadata: skipped. */
  | { readonly kind: 'aufs-meta' }
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * How an entry is applied, following Docker's rules (moby's layer unpack, containerd's whiteout
 * checks): `.wh..wh..opq` makes its directory opaque and `.wh.<name>` deletes `<name>`, whatever
 * the entry's type (a symlink or directory named `.wh.x` is a whiteout too, and any body is
 * skipped); AUFS metadata under the root's `.wh..wh.*` is skipped except the regular files of
 * `.wh..wh.plnk`, which hardlinks of the layer point at. Refused: a whiteout of "", "." or ".."
 * (it would delete the directory itself or its parent), and anything inside a directory with a
 * whiteout name, which the layer format cannot express and overlay would never show.
 */
export function whiteoutRole(parts: readonly string[], type: string): WhiteoutRole {
  const first = parts[0] ?? '';
  if (first.startsWith(WHITEOUT_META_PREFIX) && first !== WHITEOUT_OPAQUE) {
    return first === AUFS_LINK_DIR && parts.length === 2 && type === 'file' ? { kind: 'aufs-link' } : { kind: 'aufs-meta' };
  }
  for (const c of parts.slice(0, -1)) {
    if (c.startsWith(WHITEOUT_PREFIX)) return { kind: 'invalid', reason: `it is inside ${JSON.stringify(c)}, which has a whiteout name and cannot be a directory` };
  }
  const base = parts[parts.length - 1] ?? '';
  if (base === WHITEOUT_OPAQUE) return { kind: 'opaque' };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'aufs-meta' };
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'plain' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') return { kind: 'invalid', reason: `whiteout for ${JSON.stringify(name)} names no file` };
  return { kind: 'whiteout', name };
}

/**
 * overlayfs' own xattrs (opaque, redirect, origin, metacopy, …, and the user.* variants of
 * unprivileged mounts) describe one particular upper dir; they never go into a layer and are never
 * taken from one (a forged redirect would expose other paths of the lower layers).
 */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}

/** An overlay whiteout: a character device 0/0. */
export function isOverlayWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/**
 * Whether the directory at `bytePath` is opaque. Names that are not UTF-8 cannot be queried
 * (@napi-rs/xattr takes strings) and count as not opaque.
 */
export function isOpaqueDir(bytePath: string): boolean {
  const p = utf8Path(bytePath);
  return p !== undefined && getAttributeSync(p, OPAQUE_XATTR)?.toString('latin1') === 'y';
}

export type SpecialNode =
  | { readonly kind: 'whiteout' }
  | { readonly kind: 'char' | 'block'; readonly major: number; readonly minor: number }
  | { readonly kind: 'fifo' };

/**
 * Creates a device node, whiteout or FIFO at `target` (a byte path), through makeSpecialFile
 * (mknod(2) of the native module, or the coreutils tools). The node is made under an ASCII
 * temporary name in `scratchDir` (same filesystem) and renamed into place, so any target name works.
 */
export async function makeSpecialNode(scratchDir: string, target: string, node: SpecialNode, mode: number): Promise<void> {
  const tmp = `${scratchDir}/.tsbuild-node-${randomBytes(8).toString('hex')}`;
  try {
    // A whiteout is a 0/0 character device with no permission bits.
    if (node.kind === 'whiteout') await makeSpecialFile(tmp, { kind: 'char', mode: 0, major: 0, minor: 0 });
    else if (node.kind === 'fifo') await makeSpecialFile(tmp, { kind: 'fifo', mode });
    else await makeSpecialFile(tmp, { kind: node.kind, mode, major: node.major, minor: node.minor });
    await rename(tmp, fsPath(target));
  } finally {
    await rm(tmp, { force: true });
  }
}
