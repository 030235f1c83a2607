/**
 * What a data root holds on disk, measured the way du(1) -x does (allocated bytes, hard links once,
 * one file system), independently of tsbuild's own accounting, plus the listings the space tests
 * compare: snapshot directories, blobs, and a fingerprint of every path for "changed nothing".
 *
 * `tsbuild du` reports the same total within DU_TOLERANCE (docs/cache.md): the SQLite files are
 * compared apart (they change while du itself runs: its writes, the WAL checkpoint at close), and
 * du's own scratch directory (ROOT/tmp/<owner>engine-…) exists only while it runs.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes `tsbuild du` may differ from a walk by: a few directory blocks of du's own process. */
export const DU_TOLERANCE = 16 * 1024;

/** Allocated bytes under `dir` (itself included), hard links once, not crossing mount points. */
export async function allocatedBytes(dir: string, opts: { readonly skip?: (path: string) => boolean } = {}): Promise<number> {
  if (!existsSync(dir)) return 0;
  const top = await lstat(dir);
  const seen = new Set<string>();
  let bytes = top.blocks * 512;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop() as string;
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      continue;
    }
    for (const n of names) {
      const p = join(d, n);
      if (opts.skip?.(p)) continue;
      let st;
      try {
        st = await lstat(p);
      } catch {
        continue;
      }
      if (st.dev !== top.dev) continue;
      if (!st.isDirectory() && st.nlink > 1) {
        if (seen.has(`${st.ino}`)) continue;
        seen.add(`${st.ino}`);
      }
      bytes += st.blocks * 512;
      if (st.isDirectory()) stack.push(p);
    }
  }
  return bytes;
}

const isDbFile = (p: string): boolean => /\/metadata\.db(-wal|-shm)?$/.test(p);

/** The data root's bytes without the SQLite files (see DU_TOLERANCE). */
export function bytesWithoutMetadata(root: string): Promise<number> {
  return allocatedBytes(root, { skip: isDbFile });
}

/** Snapshot directories under ROOT/overlay2 (64-hex names), sorted. */
export async function snapshotDirs(root: string): Promise<string[]> {
  const d = join(root, 'overlay2');
  return existsSync(d) ? (await readdir(d)).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort() : [];
}

/**
 * What the snapshotter keeps under ROOT/overlay2 besides its bookkeeping (`.empty`, `.init`, `l`):
 * snapshot directories and anything else left there, then `l/NAME` for each short link. Empty for
 * a root that never held a snapshot (it has no overlay2/ yet).
 */
export async function overlayEntries(root: string): Promise<string[]> {
  const list = async (d: string): Promise<string[]> => (existsSync(d) ? readdir(d) : []);
  return [
    ...(await list(join(root, 'overlay2'))).filter((n) => !['.empty', '.init', 'l'].includes(n)),
    ...(await list(join(root, 'overlay2', 'l'))).map((n) => `l/${n}`),
  ];
}

/** Blob names under ROOT/content/blobs/sha256, sorted. */
export async function blobNames(root: string): Promise<string[]> {
  const d = join(root, 'content', 'blobs', 'sha256');
  return existsSync(d) ? (await readdir(d)).sort() : [];
}

/**
 * Every path under the root with its mode, and each file's size and mtime (SQLite files left out:
 * opening the database may checkpoint its WAL), hashed. Equal before and after means nothing
 * was added, removed or rewritten.
 */
export async function listingHash(root: string): Promise<string> {
  const lines: string[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const d = stack.pop() as string;
    for (const n of (await readdir(d)).sort()) {
      const p = join(d, n);
      if (isDbFile(p)) continue;
      const st = await lstat(p);
      // A directory's mtime moves with any scratch file made and removed in it: left out.
      lines.push(`${p.slice(root.length)} ${st.mode.toString(8)} ${st.isDirectory() ? '- -' : `${st.size} ${st.mtimeMs}`}`);
      if (st.isDirectory()) stack.push(p);
    }
  }
  return createHash('sha256').update(lines.sort().join('\n')).digest('hex');
}
