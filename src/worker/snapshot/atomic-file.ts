/**
 * Small metadata files written so that readers see the old content or the new, never half.
 *
 * The calls are synchronous behind async signatures: each file is a few bytes, one syscall takes
 * microseconds, and a thread-pool trip per call made a RUN step's snapshot bookkeeping (about 20
 * calls in prepare, mount and commit) wait behind whatever else the pool was doing — the layer tar
 * of the COPY before it, a context transfer: 10–90 ms per step on a loaded machine.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/** Writes `data` to a temporary sibling and renames it over `path`. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    writeFileSync(tmp, data, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Creates `path` only if it does not exist; false when it already did. */
export async function createExclusive(path: string, data: string): Promise<boolean> {
  try {
    writeFileSync(path, data, { flag: 'wx', mode: 0o644 });
    return true;
  } catch (e) {
    if (isErrno(e, 'EEXIST')) return false;
    // Created but not written (a full disk): an empty marker would read as a dead owner's.
    rmSync(path, { force: true });
    throw e;
  }
}

/** The file's content, or undefined when it does not exist. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}

export function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === code;
}
