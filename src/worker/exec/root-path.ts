/**
 * Paths inside a container rootfs, resolved on the host the way the container would see them
 * (src/util/root-path.ts: absolute symlink targets are relative to the rootfs, `..` never climbs
 * above it). Used to read the
 * image's /etc/passwd and to create mountpoints without ever following a link out of the rootfs.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { TsbuildError } from '../../util/errors.js';
import { resolveInRoot } from '../../util/root-path.js';

/** The `code` of a Node system error (`ENOENT`…), if any. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/** The host path of `path` as the container sees it (every symlink followed, inside the rootfs). */
export async function hostPathInRootfs(rootfs: string, path: string): Promise<string> {
  const r = await resolveInRoot(rootfs, path, {
    followFinal: true,
    loopError: (at) => new TsbuildError('SYMLINK_LOOP', `too many levels of symbolic links resolving ${path} in the container filesystem (at ${at})`),
  });
  return r.host;
}

/**
 * Reads a regular file inside the rootfs, or returns undefined when it does not exist (or is not a
 * regular file). The final component is opened with O_NOFOLLOW: it was resolved already, so a link
 * appearing there now is a race we refuse rather than follow.
 */
export async function readFileInRoot(root: string, path: string, signal: AbortSignal): Promise<Buffer | undefined> {
  const host = await hostPathInRootfs(root, path);
  let fh;
  try {
    fh = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
    throw e;
  }
  try {
    if (!(await fh.stat()).isFile()) return undefined;
    return await fh.readFile({ signal });
  } finally {
    await fh.close();
  }
}
