/** Disk usage of a directory tree: allocated blocks, each inode once, no symlink followed. */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '../../util/errors.js';

function isGone(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Bytes allocated under `dir`. Entries that vanish during the walk (a cache in use) are skipped. */
export async function diskUsage(dir: string, signal: AbortSignal): Promise<number> {
  const seen = new Set<bigint>();
  let total = 0;
  const walk = async (p: string): Promise<void> => {
    throwIfAborted(signal);
    let st;
    try {
      st = await lstat(p, { bigint: true });
    } catch (e) {
      if (isGone(e)) return;
      throw e;
    }
    if (!seen.has(st.ino)) {
      seen.add(st.ino);
      total += Number(st.blocks) * 512;
    }
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = await readdir(p);
    } catch (e) {
      if (isGone(e)) return;
      throw e;
    }
    for (const name of names) await walk(join(p, name));
  };
  await walk(dir);
  return total;
}
