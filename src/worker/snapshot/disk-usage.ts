/** `du` of one directory tree: allocated bytes and inodes, hardlinked inodes counted once. */
import { lstat, readdir } from 'node:fs/promises';
import type { SnapshotUsage } from '../types.js';
import { throwIfAborted } from '../../util/errors.js';
import { fsPath, toBytePath } from './byte-path.js';

export async function diskUsage(dir: string, signal?: AbortSignal): Promise<SnapshotUsage> {
  const seen = new Set<string>();
  let bytes = 0;
  let inodes = 0;
  const stack = [toBytePath(dir)];
  while (stack.length > 0) {
    throwIfAborted(signal);
    const d = stack.pop() as string;
    const st = await lstat(fsPath(d));
    bytes += st.blocks * 512;
    inodes++;
    const names = await readdir(fsPath(d), { encoding: 'latin1' });
    for (const name of names) {
      const p = `${d}/${name}`;
      const s = await lstat(fsPath(p));
      if (s.isDirectory()) {
        stack.push(p);
        continue;
      }
      if (s.nlink > 1) {
        const key = `${s.dev}:${s.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      bytes += s.blocks * 512;
      inodes++;
    }
  }
  return { bytes, inodes };
}
