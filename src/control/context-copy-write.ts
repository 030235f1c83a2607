/**
 * How a sync writes a file that arrived whole into the daemon's context copy, and what it may tell
 * the engine about it (solve-context-sync.ts).
 */
import { closeSync, fchmodSync, fchownSync, fstatSync, futimesSync, openSync, rmSync, writeSync } from 'node:fs';
import type { Stats } from 'node:fs';
import type { StatCacheEntry } from '../cache/types.js';
import type { tsbuild } from '../client/gen/control.js';

type FileStat = tsbuild.control.v1.FileStat.$Properties;

/**
 * Writes `data` as a new file at `p`, always a fresh inode (O_EXCL): what was there before is
 * removed, never overwritten in place. A sync that fails midway may leave a partial file at its
 * final path; the copy then has no manifest (removed before any write), so the next sync starts it
 * afresh. Owner, mode and times are set through the open descriptor (no path lookups), the owner
 * first: a chown clears set-user-ID and set-group-ID bits.
 */
export function writeNewFile(p: string, data: Uint8Array, e: FileStat, stat: boolean): Stats | undefined {
  let fd: number;
  try {
    fd = openSync(p, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    rmSync(p, { recursive: true, force: true });
    fd = openSync(p, 'wx');
  }
  try {
    for (let off = 0; off < data.length;) off += writeSync(fd, data, off);
    fchownSync(fd, e.uid ?? 0, e.gid ?? 0);
    fchmodSync(fd, (e.mode ?? 0) & 0o7777);
    const mtime = Number(BigInt(e.mtimeNs ?? 0)) / 1e9;
    futimesSync(fd, mtime, mtime);
    // After the last change to the inode: what a later lstat of the untouched file sees.
    return stat ? fstatSync(fd) : undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * What a store tells the engine about the files a sync writes whole (the daemon wires it to the
 * engine's hasher and stat cache): the context checksums that follow a cold sync then take each
 * file's digest from the stat cache instead of reading the file the sync has just written. Its
 * stat facts are taken after the sync's last change to the file, and only syncs write the copy,
 * each file as a new inode; a file changed since (or linked into a layer, which moves its ctime)
 * no longer matches its row, and is read.
 */
export interface WrittenContent {
  /** The content digest a context checksum computes from a file's bytes. */
  digest(data: Uint8Array): string;
  /** Rows for the files of `dir` a sync wrote (paths relative to it). */
  remember(dir: string, rows: readonly StatCacheEntry[]): void;
}
