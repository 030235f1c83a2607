/**
 * Disk usage of a directory tree as du(1) counts it: allocated bytes (st_blocks × 512) of every
 * entry, the root directory included, each hard-linked inode once, and nothing on another file
 * system (`du -x`: a mounted overlay is somebody else's data, not this tree's). Paths are handled
 * as bytes (latin1 strings), so names that are not UTF-8 are walked like any other.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { throwIfAborted } from './errors.js';

/**
 * Entries looked up synchronously between two turns of the event loop. A snapshot's usage is taken
 * after every build step: one thread-pool trip per entry cost more than the lstat itself (issue 14),
 * and the turns keep a daemon answering while a big tree is walked.
 */
const ENTRIES_PER_TURN = 2000;

/**
 * A directory whose own size (st_size: ~32 bytes per entry on ext4, proportional on the others) is
 * at most this is listed synchronously; a bigger one through the thread pool, so one huge directory
 * never holds the event loop. After every step a new layer is walked on its critical path: for the
 * usual few small directories one thread-pool trip each, behind the layer tars' writes and fsyncs,
 * cost more than the listing (docs/benchmarks.md, s15-run-cost).
 */
const SYNC_LIST_MAX_BYTES = 64 * 1024;

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

/** The names in `dir` (latin1), or undefined when it is gone (removed while we walk). */
async function listDir(dir: string, size: number): Promise<string[] | undefined> {
  try {
    if (size <= SYNC_LIST_MAX_BYTES) return readdirSync(fsPath(dir), { encoding: 'latin1' });
    return await readdir(fsPath(dir), { encoding: 'latin1' });
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

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
  const rootStat = lstatSync(fsPath(top), { throwIfNoEntry: false });
  if (rootStat === undefined) return { bytes: 0, inodes: 0 };
  let bytes = rootStat.blocks * 512;
  let inodes = 1;
  if (!rootStat.isDirectory()) return { bytes, inodes };
  const stack: Array<{ readonly dir: string; readonly size: number }> = [{ dir: top, size: rootStat.size }];
  let sinceTurn = 0;
  // A listing counts as an entry too: a tree of many empty directories still lets the loop turn.
  const due = (): boolean => ++sinceTurn >= ENTRIES_PER_TURN;
  const turn = async (): Promise<void> => {
    sinceTurn = 0;
    await nextTurn();
    throwIfAborted(opts.signal);
  };
  while (stack.length > 0) {
    throwIfAborted(opts.signal);
    const { dir, size } = stack.pop() as { readonly dir: string; readonly size: number };
    if (due()) await turn();
    const names = await listDir(dir, size);
    if (names === undefined) continue;
    for (const name of names) {
      const p = `${dir}/${name}`;
      const sub = opts.substitute?.(p);
      if (sub !== undefined) {
        bytes += sub;
        continue;
      }
      if (due()) await turn();
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
      if (st.isDirectory()) stack.push({ dir: p, size: st.size });
    }
  }
  return { bytes, inodes };
}
