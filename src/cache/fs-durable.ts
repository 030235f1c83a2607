/** Small durability helpers: the rename-into-place dance needs the directory fsynced too. */
import fs, { closeSync, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';

/**
 * A callback-style fs call as a promise. The call is made when this runs, through whatever object
 * the caller names (`fs.fsync`, not a bound copy), so a test can watch it.
 */
export function onPool<T = void>(call: (cb: (e: NodeJS.ErrnoException | null, v?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => call((e, v) => (e ? reject(e) : resolve(v as T))));
}

/**
 * fsyncs a directory so a rename or unlink inside it survives a power loss. One thread-pool trip,
 * the fsync: opening and closing a directory take microseconds, and as trips of their own (three
 * in all) each waited behind the pool's other work and for an event-loop turn — every blob commit
 * ends with this, the export's last layer, config and manifest on the build's critical path.
 */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await onPool((cb) => fs.fsync(fd, cb));
  } finally {
    closeSync(fd);
  }
}

/** Removes a file or tree; a missing path is not an error. */
export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

export function isErrnoCode(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}
