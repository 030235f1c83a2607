/**
 * Disk usage of a directory tree as du(1) counts it: allocated bytes (st_blocks × 512) of every
 * entry, the root directory included, each hard-linked inode once, and nothing on another file
 * system (`du -x`: a mounted overlay is somebody else's data, not this tree's). Paths are handled
 * as bytes (latin1 strings), so names that are not UTF-8 are walked like any other.
 */
import { lstatSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { throwIfAborted } from './errors.js';

/**
 * Entries looked up synchronously between two turns of the event loop. A snapshot's usage is taken
 * after every build step: one thread-pool trip per entry cost more than the lstat itself (issue 14),
 * and the turns keep a daemon answering while a big tree is walked.
 */
const ENTRIES_PER_TURN = 2000;

export interface TreeUsageOptions {
  readonly signal?: AbortSignal;
  /**
   * Called for every entry below the root with its path (a latin1 byte string; plain ASCII paths
   * are unchanged): a number is counted instead of the entry (and, for a directory, its whole
   * tree, which is then not walked).
   */
  readonly substitute?: (path: string) => number | undefined;
  /** Inodes already counted ("dev:ino"); shared across calls to count a hard link once overall. */
  readonly seen?: Set<string>;
}

export interface TreeUsage {
  readonly bytes: number;
  readonly inodes: number;
}

function fsPath(bytePath: string): Buffer {
  return Buffer.from(bytePath, 'latin1');
}

/** Usage of `root` (a normal UTF-8 path); a missing root uses nothing. */
export async function treeUsage(root: string, opts: TreeUsageOptions = {}): Promise<TreeUsage> {
  const seen = opts.seen ?? new Set<string>();
  const top = Buffer.from(root, 'utf8').toString('latin1');
  let rootStat;
  try {
    rootStat = await lstat(fsPath(top));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { bytes: 0, inodes: 0 };
    throw e;
  }
  let bytes = rootStat.blocks * 512;
  let inodes = 1;
  if (!rootStat.isDirectory()) return { bytes, inodes };
  const stack = [top];
  let sinceTurn = 0;
  while (stack.length > 0) {
    throwIfAborted(opts.signal);
    const dir = stack.pop() as string;
    let names: string[];
    try {
      names = await readdir(fsPath(dir), { encoding: 'latin1' });
    } catch (e) {
      // Removed while we walk (a concurrent remove): it uses nothing any more.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    for (const name of names) {
      const p = `${dir}/${name}`;
      const sub = opts.substitute?.(p);
      if (sub !== undefined) {
        bytes += sub;
        continue;
      }
      if (++sinceTurn >= ENTRIES_PER_TURN) {
        sinceTurn = 0;
        await nextTurn();
        throwIfAborted(opts.signal);
      }
      const st = lstatSync(fsPath(p), { throwIfNoEntry: false });
      if (st === undefined) continue;
      if (st.dev !== rootStat.dev) continue;
      if (st.nlink > 1 && !st.isDirectory()) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      bytes += st.blocks * 512;
      inodes++;
      if (st.isDirectory()) stack.push(p);
    }
  }
  return { bytes, inodes };
}
