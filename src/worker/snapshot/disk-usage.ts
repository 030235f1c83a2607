/** `du` of one directory tree: allocated bytes and inodes, hardlinked inodes counted once. */
import type { SnapshotUsage } from '../types.js';
import { treeUsage } from '../../util/tree-usage.js';

export async function diskUsage(dir: string, signal?: AbortSignal): Promise<SnapshotUsage> {
  return treeUsage(dir, signal ? { signal } : {});
}
