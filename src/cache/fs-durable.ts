/** Small durability helpers: the rename-into-place dance needs the directory fsynced too. */
import { open, rm } from 'node:fs/promises';

/** fsyncs a directory so a rename or unlink inside it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Removes a file or tree; a missing path is not an error. */
export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

export function isErrnoCode(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}
