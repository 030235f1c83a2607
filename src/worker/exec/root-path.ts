/**
 * Paths inside a container rootfs, resolved on the host the way the container would see them
 * (src/util/root-path.ts: absolute symlink targets are relative to the rootfs, `..` never climbs
 * above it). Used to read the
 * image's /etc/passwd and to create mountpoints without ever following a link out of the rootfs.
 */
import { closeSync, constants, fstatSync, openSync, readFile, readFileSync } from 'node:fs';
import { TsbuildError } from '../../util/errors.js';
import { resolveInRoot, resolveInRootSync } from '../../util/root-path.js';
import type { RootResolveOptions } from '../../util/root-path.js';

/** The `code` of a Node system error (`ENOENT`…), if any. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/** The host path of `path` as the container sees it (every symlink followed, inside the rootfs). */
export async function hostPathInRootfs(rootfs: string, path: string): Promise<string> {
  return (await resolveInRoot(rootfs, path, followAll(path))).host;
}

/** hostPathInRootfs with synchronous calls (a RUN's mountpoints and working directory: few, and on its critical path). */
export function hostPathInRootfsSync(rootfs: string, path: string): string {
  return resolveInRootSync(rootfs, path, followAll(path)).host;
}

function followAll(path: string): RootResolveOptions {
  return {
    followFinal: true,
    loopError: (at) => new TsbuildError('SYMLINK_LOOP', `too many levels of symbolic links resolving ${path} in the container filesystem (at ${at})`),
  };
}

function readFileAsync(fd: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    readFile(fd, { signal }, (e, b) => (e ? reject(e) : resolve(b)));
  });
}

/** Files up to this size are read with synchronous calls (a RUN's /etc/passwd and /etc/group). */
const SMALL_FILE_BYTES = 64 * 1024;

/**
 * Reads a regular file inside the rootfs, or returns undefined when it does not exist (or is not a
 * regular file). The final component is opened with O_NOFOLLOW: it was resolved already, so a link
 * appearing there now is a race we refuse rather than follow. The lookup, open and stat are
 * synchronous, and so is the read of a file up to 64 KiB: they are on every RUN's critical path,
 * where each thread-pool trip waits behind the build's other file I/O. A bigger file is read
 * asynchronously (abortable, without stopping the event loop).
 */
export async function readFileInRoot(root: string, path: string, signal: AbortSignal): Promise<Buffer | undefined> {
  const host = hostPathInRootfsSync(root, path);
  let fd: number;
  try {
    fd = openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    if (st.size <= SMALL_FILE_BYTES) return readFileSync(fd);
    return await readFileAsync(fd, signal);
  } finally {
    closeSync(fd);
  }
}
