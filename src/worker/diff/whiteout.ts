/**
 * Overlay ↔ OCI whiteouts. overlayfs marks a deleted name with a character device 0/0 and a
 * replaced directory with the xattr `trusted.overlay.opaque=y`; OCI layers say the same with empty
 * files named `.wh.<name>` and `.wh..wh..opq`.
 */
import { getAttributeSync } from '@napi-rs/xattr';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { assertNever } from '../../util/errors.js';
import { fsPath, utf8Path } from '../snapshot/byte-path.js';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
/** AUFS metadata entries (`.wh..wh.plnk`, …) start with this; they carry nothing for overlay. */
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const OPAQUE_XATTR = 'trusted.overlay.opaque';

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

function run(cmd: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8' }, (err, _out, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${(stderr || err.message).trim()}`));
      else resolve();
    });
  });
}

/**
 * Creates a device node, whiteout or FIFO at `target` (a byte path). Node has neither mknod nor
 * mkfifo, so this spawns the coreutils tools; they are rare in layers. The node is made under an
 * ASCII temporary name in `scratchDir` (same filesystem) and renamed into place, so any target
 * name works.
 */
export async function makeSpecialNode(scratchDir: string, target: string, node: SpecialNode, mode: number): Promise<void> {
  const tmp = `${scratchDir}/.tsbuild-node-${randomBytes(8).toString('hex')}`;
  const perm = (mode & 0o7777).toString(8);
  try {
    switch (node.kind) {
      case 'whiteout':
        await run('mknod', ['-m', '000', tmp, 'c', '0', '0']);
        break;
      case 'char':
      case 'block':
        await run('mknod', ['-m', perm, tmp, node.kind === 'char' ? 'c' : 'b', String(node.major), String(node.minor)]);
        break;
      case 'fifo':
        await run('mkfifo', ['-m', perm, tmp]);
        break;
      default:
        assertNever(node, 'special node');
    }
    await rename(tmp, fsPath(target));
  } finally {
    await rm(tmp, { force: true });
  }
}
