/**
 * Where each regular file's entry sits in a layer's uncompressed tar (`tar-index`, kept beside the
 * snapshot's `diff/` and removed with it), and which earlier snapshot a layer hard-links its files
 * from (`linked-from`, written by the incremental COPY, docs/incremental-copy.md).
 *
 * Why: the one-file edit of a 100,000-file context links 100,000 files from the previous layer,
 * and its layer tar then opened, read and listed the xattrs of every one of them again (~3 s of the
 * ~8 s tar). A file entry's bytes (header, PAX records, body, padding) are a function of its path,
 * its inode (mode, owner, size, mtime, xattrs, content) and whether it is the first path of that
 * inode in the layer. A linked file is the very inode the earlier layer's tar was made from, at the
 * same path, and committed layers never change: so its entry is copied from the earlier blob.
 *
 * Why the inode number is enough to know it is the same file: while the incremental copy runs it
 * holds a lease on the earlier snapshot, so every file it copies gets an inode distinct from all of
 * the earlier layer's; after the commit no file of either layer changes. An index entry also
 * carries size and mtime, checked as well, so a wrong match needs a reused inode number with equal
 * size and mtime at the same path. Only tars made without SOURCE_DATE_EPOCH are indexed or spliced
 * (the epoch changes the headers), and only uncompressed blobs (offsets are into the stored bytes).
 */
import type { Stats } from 'node:fs';
import { readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Where snapshots keep their `diff/` (the Snapshotter's diffDir). */
export interface DiffDirs {
  diffDir(id: string): string;
}

const INDEX = 'tar-index.json';
const LINKED_FROM = 'linked-from';
const VERSION = 1;

/** One regular file's entry in a tar: from its first header byte to the end of its padding. */
export interface TarIndexEntry {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly offset: number;
  readonly length: number;
}

/** A blob's file entries by inode number; `dev` is the device every indexed inode is on. */
export interface TarIndex {
  readonly blobDigest: string;
  readonly dev: number;
  readonly byInode: ReadonlyMap<number, TarIndexEntry>;
}

/** The earlier tar a layer tar may copy linked files' entries from (LayerTarOptions.reuse). */
export interface TarReuse {
  /** An open, read-only descriptor of the earlier uncompressed blob (the caller closes it). */
  readonly fd: number;
  readonly index: TarIndex;
}

/** The facts of a regular file that decide whether its entry can be copied from an earlier blob. */
export type FileStat = Pick<Stats, 'dev' | 'ino' | 'size' | 'mtimeMs' | 'nlink'>;

/** The earlier entry with the same bytes as `path`'s entry, if the index has one. */
export function reusableEntry(index: TarIndex, path: string, st: FileStat): TarIndexEntry | undefined {
  if (st.dev !== index.dev) return undefined;
  const e = index.byInode.get(st.ino);
  return e !== undefined && e.path === path && e.size === st.size && e.mtimeMs === st.mtimeMs ? e : undefined;
}

function siblingPath(snapshots: DiffDirs, id: string, name: string): string {
  return join(dirname(snapshots.diffDir(id)), name);
}

/** Collects a tar's file entries as it is made (LayerTarOptions.onFileEntry). */
export class TarIndexWriter {
  readonly #entries: (string | number)[] = [];
  #dev: number | undefined;

  readonly add = (path: string, st: FileStat, offset: number, length: number): void => {
    this.#dev ??= st.dev;
    if (st.dev !== this.#dev) return;
    this.#entries.push(path, st.ino, st.size, st.mtimeMs, offset, length);
  };

  /** Writes the index of blob `blobDigest` beside snapshot `id`. */
  async write(snapshots: DiffDirs, id: string, blobDigest: string): Promise<void> {
    if (this.#dev === undefined) return;
    await writeFile(siblingPath(snapshots, id, INDEX), JSON.stringify({ version: VERSION, blob: blobDigest, dev: this.#dev, entries: this.#entries }));
  }
}

/**
 * The index left beside snapshot `id`, if any (and readable). Read synchronously, as the small
 * files beside it: readLinkedFrom starts every layer's tar (the export waits for the last one's),
 * and its thread-pool trip took 5–13 ms at load 5, behind the build's end on the event loop.
 */
export async function readTarIndex(snapshots: DiffDirs, id: string): Promise<TarIndex | undefined> {
  let raw: string;
  try {
    raw = readFileSync(siblingPath(snapshots, id, INDEX), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(raw) as { version?: unknown; blob?: unknown; dev?: unknown; entries?: unknown };
    if (v.version !== VERSION || typeof v.blob !== 'string' || typeof v.dev !== 'number' || !Array.isArray(v.entries)) return undefined;
    const f = v.entries as unknown[];
    const byInode = new Map<number, TarIndexEntry>();
    for (let i = 0; i + 5 < f.length; i += 6) {
      const [path, ino, size, mtimeMs, offset, length] = f.slice(i, i + 6);
      if (typeof path !== 'string' || typeof ino !== 'number' || typeof size !== 'number' || typeof mtimeMs !== 'number' || typeof offset !== 'number' || typeof length !== 'number') return undefined;
      byInode.set(ino, { path, size, mtimeMs, offset, length });
    }
    return { blobDigest: v.blob, dev: v.dev, byInode };
  } catch {
    return undefined;
  }
}

/** Records that snapshot `id`'s layer hard-links files of snapshot `from`'s layer. */
export async function writeLinkedFrom(snapshots: DiffDirs, id: string, from: string): Promise<void> {
  writeFileSync(siblingPath(snapshots, id, LINKED_FROM), from);
}

/** The snapshot whose files snapshot `id`'s layer hard-links, if it recorded one. */
export async function readLinkedFrom(snapshots: DiffDirs, id: string): Promise<string | undefined> {
  try {
    const v = readFileSync(siblingPath(snapshots, id, LINKED_FROM), 'utf8').trim();
    return v === '' ? undefined : v;
  } catch {
    return undefined;
  }
}
