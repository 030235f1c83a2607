/**
 * Paths inside a container rootfs, resolved on the host the way the container would see them:
 * absolute symlink targets are relative to the rootfs, `..` never climbs above it. Used to read the
 * image's /etc/passwd and to create mountpoints without ever following a link out of the rootfs.
 */
import { constants } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TsbuildError } from '../../util/errors.js';

/** Linux's own limit on symlinks followed while resolving one path. */
const MAX_SYMLINKS = 40;

function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/** The `code` of a Node system error (`ENOENT`…), if any. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/**
 * The host path of `path` (as seen inside the container) under `root`, with every symlink in the
 * existing part resolved inside the rootfs. Components that do not exist (or sit under a
 * non-directory) are appended as written, so the result always lies under `root`.
 */
export async function resolveInRoot(rootDir: string, path: string): Promise<string> {
  const root = resolve(rootDir);
  const pending = components(path);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const c = pending.shift() as string;
    if (c === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, c);
    let isLink = false;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch (e) {
      const code = errnoCode(e);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
    if (!isLink) {
      resolved.push(c);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw new TsbuildError('SYMLINK_LOOP', `too many levels of symbolic links resolving ${path} in the container filesystem`);
    }
    const target = await readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...components(target));
  }
  return join(root, ...resolved);
}

/**
 * Reads a regular file inside the rootfs, or returns undefined when it does not exist (or is not a
 * regular file). The final component is opened with O_NOFOLLOW: it was resolved already, so a link
 * appearing there now is a race we refuse rather than follow.
 */
export async function readFileInRoot(root: string, path: string, signal: AbortSignal): Promise<Buffer | undefined> {
  const host = await resolveInRoot(root, path);
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
