/**
 * The file system's "now": the mtime of a file written this instant. Garbage collection compares
 * the times of blobs and snapshots with the start of running operations; taking both from the
 * same (coarse, kernel) clock makes "created after the operation began" exact, where Date.now()
 * can be a few milliseconds ahead of the timestamps the kernel gives new files.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { currentProcess, ownerPrefix } from './process-identity.js';

/** Milliseconds since the epoch, as the file system under `dir` stamps a new file. */
export async function fsNow(dir: string): Promise<number> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${ownerPrefix(currentProcess())}clock-${randomBytes(4).toString('hex')}`);
  const fh = await open(path, 'wx', 0o600);
  try {
    // A write updates mtime to the current (coarse) kernel time even on file systems that
    // stamp creation lazily.
    await fh.write('t');
    return (await fh.stat()).mtimeMs;
  } finally {
    await fh.close();
    await unlink(path).catch(() => undefined);
  }
}
