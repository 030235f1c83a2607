/**
 * One walk of a committed snapshot's `diff/` for the two figures read from it: the result's size as
 * du(1) counts it (allocated bytes of every entry, the root included, each hard-linked inode once,
 * as src/util/tree-usage.ts counts), taken when the snapshot commits, and each entry's kind and
 * content size, which the image's layer figures read at the end of the build (src/engine/
 * layer-usage.ts). They used to be two walks of the same new layer: a one-file edit of the seed's
 * 100,000-file COPY lstat'ed its 100,000 entries once for each (issue 14). The entries are kept by
 * snapshot id (`DiffWalkCache`; a committed `diff/` never changes, and ids are never reused).
 *
 * Entries are listed as the layer figures always read them: names sorted, parents before their
 * children, paths relative and `/`-separated, as UTF-8 strings. A tree this cannot walk (a name that
 * is not UTF-8) fails the walk; a tree with an entry on another file system gives no size (du -x
 * would leave that entry out): the caller then measures the size with treeUsage alone.
 */
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { normalize } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { throwIfAborted } from '../../util/errors.js';
import { WeighedLru } from '../../util/weighed-lru.js';
import type { FileStat } from '../diff/tar-index.js';
import { isOpaqueDir } from '../diff/whiteout.js';
import type { SnapshotUsage } from '../types.js';

/**
 * One entry of a layer: a regular file (its size, 0 for a second hard link to a file this layer
 * already counted) or symlink (its target's length), a directory (opaque or not), a whiteout, or
 * anything else.
 */
export type DiffEntry =
  /**
   * `facts`: what the walk's lstat said, for the layer tar's choice to copy the file's entry from
   * an earlier blob (LayerTarOptions.known): the layer never changes, and neither does the inode
   * (only its link count grows when a later layer links it, which says nothing about this layer).
   */
  | { readonly kind: 'file'; readonly size: number; readonly facts: FileStat }
  | { readonly kind: 'symlink'; readonly size: number }
  | { readonly kind: 'dir'; readonly opaque: boolean }
  | { readonly kind: 'other' | 'whiteout' };

export interface DiffWalk {
  readonly entries: Map<string, DiffEntry>;
  /** du's figures; undefined when an entry is on another file system than the root. */
  readonly usage: SnapshotUsage | undefined;
}

/** Entries looked up between two turns of the event loop (a daemon serves other builds meanwhile). */
const ENTRIES_PER_TURN = 2000;

/**
 * Walks `root`. The lookups are synchronous, yielding to the event loop every ENTRIES_PER_TURN
 * entries: a thread-pool trip per entry costs more than the call (issue 14).
 */
export async function walkDiff(dir: string, signal: AbortSignal): Promise<DiffWalk> {
  const root = normalize(dir);
  const entries = new Map<string, DiffEntry>();
  const rootStat = lstatSync(root, { throwIfNoEntry: false });
  if (rootStat === undefined) return { entries, usage: { bytes: 0, inodes: 0 } };
  let bytes = rootStat.blocks * 512;
  let inodes = 1;
  let otherDev = false;
  /** Inodes of regular files seen: a second hard link to one adds no content bytes. */
  const files = new Set<number>();
  /** Inodes of non-directories with other links that du counted (all on the root's device). */
  const counted = new Set<number>();
  let sinceTurn = 0;
  const visit = async (rel: string): Promise<void> => {
    throwIfAborted(signal);
    let names: string[];
    try {
      names = readdirSync(rel === '' ? root : `${root}/${rel}`).sort();
    } catch {
      names = [];
    }
    for (const name of names) {
      if (++sinceTurn >= ENTRIES_PER_TURN) {
        sinceTurn = 0;
        await nextTurn();
        throwIfAborted(signal);
      }
      const p = rel === '' ? name : `${rel}/${name}`;
      const abs = `${root}/${p}`;
      const st = lstatSync(abs);
      const isDir = st.isDirectory();
      if (st.dev !== rootStat.dev) {
        otherDev = true;
      } else if (isDir || st.nlink <= 1 || !counted.has(st.ino)) {
        if (!isDir && st.nlink > 1) counted.add(st.ino);
        bytes += st.blocks * 512;
        inodes++;
      }
      if (isDir) {
        entries.set(p, { kind: 'dir', opaque: isOpaqueDir(Buffer.from(abs, 'utf8').toString('latin1')) });
        await visit(p);
      } else if (st.isFile()) {
        const again = st.nlink > 1 && files.has(st.ino);
        if (st.nlink > 1) files.add(st.ino);
        entries.set(p, { kind: 'file', size: again ? 0 : st.size, facts: { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, nlink: st.nlink } });
      } else if (st.isSymbolicLink()) {
        entries.set(p, { kind: 'symlink', size: Buffer.byteLength(readlinkSync(abs), 'latin1') });
      } else if (st.isCharacterDevice() && st.rdev === 0) {
        entries.set(p, { kind: 'whiteout' });
      } else {
        entries.set(p, { kind: 'other' });
      }
    }
  };
  await visit('');
  return { entries, usage: otherDev ? undefined : { bytes, inodes } };
}

/** Layer walks kept by snapshot id (a committed snapshot's `diff/` never changes). */
export interface LayerWalks {
  get(id: string): ReadonlyMap<string, DiffEntry> | undefined;
  set(id: string, entries: ReadonlyMap<string, DiffEntry>): void;
}

/** Entries of layer walks kept, in all (~100 bytes each). */
const CACHED_WALK_ENTRIES = 400_000;

/** Layer walks by snapshot id, the least recently used dropped beyond `maxEntries` entries in all. */
export class DiffWalkCache extends WeighedLru<ReadonlyMap<string, DiffEntry>> implements LayerWalks {
  constructor(maxEntries = CACHED_WALK_ENTRIES) {
    super(maxEntries, (e) => e.size);
  }
}
