/**
 * The runtime's own mount points must be real directories of the rootfs. runc 1.1 mounts /dev,
 * /proc and /sys at paths it resolves inside the rootfs, but then creates device nodes and the
 * /dev/ptmx, /dev/fd and /dev/std* links by joining `rootfs + "/dev/…"` naively: when the image's
 * `/dev` is a symlink (absolute, or `../../..` climbing out), those land wherever it points, on the
 * host. RUN steps get real directories from the snapshotter's init layer (MountOptions
 * containerRoot); this check refuses any other rootfs that would let the runtime write outside.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { TsbuildError } from '../../util/errors.js';
import { ExecErrorCode } from './errors.js';
import { errnoCode } from './root-path.js';

/** Top-level mount points runc prepares before the process starts. */
export const RUNTIME_DIRS: readonly string[] = ['/dev', '/proc', '/sys'];

/** Throws INVALID_MOUNT when one of RUNTIME_DIRS exists in `rootfs` and is not a directory. */
export function checkRuntimeDirs(rootfs: string): void {
  for (const dir of RUNTIME_DIRS) {
    const host = join(rootfs, dir);
    let st;
    try {
      st = lstatSync(host);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') continue; // a mount stub is made for it
      throw e;
    }
    if (st.isDirectory()) continue;
    const what = st.isSymbolicLink() ? `a symbolic link to ${JSON.stringify(readlinkSync(host))}` : 'not a directory';
    throw new TsbuildError(ExecErrorCode.invalidMount,
      `refusing to run: ${dir} in the container filesystem is ${what}; the runtime would follow it out of the rootfs`);
  }
}
