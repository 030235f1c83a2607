/** Deleting snapshot directories without ever descending into a mount. */
import { rm } from 'node:fs/promises';
import { SnapshotError, SnapshotErrorCode } from './errors.js';
import { mountPointsUnder } from './mount-table-proc.js';

/**
 * Removes `dir` recursively, but refuses when anything is mounted at or below it: a recursive
 * delete would walk into the mount and destroy the layers behind it.
 */
export async function removeTree(dir: string): Promise<void> {
  const mounted = await mountPointsUnder(dir);
  if (mounted.length > 0) {
    throw new SnapshotError(SnapshotErrorCode.inUse, `refusing to delete ${dir}: ${mounted[0] ?? ''} is still mounted`);
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
