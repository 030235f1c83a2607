/** Small metadata files written so that readers see the old content or the new, never half. */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';

/** Writes `data` to a temporary sibling and renames it over `path`. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(tmp, data, { mode: 0o644 });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Creates `path` only if it does not exist; false when it already did. */
export async function createExclusive(path: string, data: string): Promise<boolean> {
  try {
    await writeFile(path, data, { flag: 'wx', mode: 0o644 });
    return true;
  } catch (e) {
    if (isErrno(e, 'EEXIST')) return false;
    // Created but not written (a full disk): an empty marker would read as a dead owner's.
    await rm(path, { force: true });
    throw e;
  }
}

/** The file's content, or undefined when it does not exist. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}

export function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === code;
}
