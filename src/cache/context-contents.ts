/**
 * What each entry of a context checksum contributes besides its stat (context-hash.ts): a regular
 * file's content digest, a symlink's target, a device's number. Reading files is most of what a
 * checksum costs, so it is done with care: the stat cache answers for unchanged files, several
 * files are read at once to keep libuv's thread pool busy, a small file is read in one synchronous
 * call, and only files changed comfortably before their read are remembered in the stat cache.
 */
import { readFileSync, type Stats } from 'node:fs';
import { open, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '../util/errors.js';
import type { ChecksumOptions, FileReader, SignalOptions, StatCacheEntry } from './types.js';
import type { Xxh64 } from './xxhash.js';
import { hex64 } from './xxhash.js';

const CHUNK = 1 << 20;
/** Files up to this size are read with one synchronous call. */
const SYNC_READ_MAX = 64 * 1024;
/** Files hashed at once: enough to keep libuv's thread pool busy on small files. */
const PARALLEL_FILES = 8;
const DEFAULT_RACY_WINDOW_MS = 2000;
/** From this many entries on, the stat cache's rows for the root are loaded in one query. */
const PRELOAD_MIN_ENTRIES = 256;

/** An entry a checksum covers: its path in the context and its lstat. */
export interface ContextEntry {
  /** Root-relative path. */
  readonly path: string;
  readonly stat: Stats;
}

/** Streams a file in chunks of up to 1 MiB (smaller for files known to be small). */
export const readFileChunks: FileReader = async function* readFileChunks(absPath, opts) {
  const fh = await open(absPath, 'r');
  try {
    const buf = Buffer.allocUnsafe(opts.sizeHint !== undefined ? Math.max(1, Math.min(CHUNK, opts.sizeHint + 1)) : CHUNK);
    for (;;) {
      throwIfAborted(opts.signal);
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return;
      // The consumer hashes each chunk before asking for the next, so the buffer can be reused.
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
};

/**
 * What each entry contributes besides its stat: a file's content digest (from the stat cache or
 * read), a symlink's target, a device's number; '' for the rest.
 */
export async function readContents(xx: Xxh64, root: string, entries: readonly ContextEntry[], opts: ChecksumOptions): Promise<{ readonly extra: string[]; readonly bytes: number; readonly filesRead: number }> {
  const extra = new Array<string>(entries.length).fill('');
  const fresh: StatCacheEntry[] = [];
  let filesRead = 0;
  let bytes = 0;
  const racyWindowMs = opts.racyWindowMs ?? DEFAULT_RACY_WINDOW_MS;
  const read = opts.readFile;
  const signalOpts: SignalOptions = opts.signal ? { signal: opts.signal } : {};

  if (opts.statCache?.preload && entries.length >= PRELOAD_MIN_ENTRIES) opts.statCache.preload(root);

  const work = async (i: number): Promise<void> => {
    const e = entries[i] as ContextEntry;
    const st = e.stat;
    if (st.isSymbolicLink()) {
      extra[i] = await readlink(join(root, e.path));
      return;
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      extra[i] = String(st.rdev);
      return;
    }
    if (!st.isFile()) return;
    bytes += st.size;
    const cached = opts.statCache?.get(root, e.path);
    if (cached && cached.size === st.size && cached.mtimeMs === st.mtimeMs && cached.ctimeMs === st.ctimeMs && cached.ino === st.ino) {
      extra[i] = cached.digest;
      return;
    }
    const startedAt = Date.now();
    const abs = join(root, e.path);
    let value: bigint;
    if (read === undefined && st.size <= SYNC_READ_MAX) {
      // A small file in one synchronous read: open, read and close through the thread pool cost
      // more than the reads themselves (as for the copier's small files; issue 14).
      value = xx.h64Raw(readFileSync(abs));
    } else if (read === undefined && st.size <= CHUNK) {
      // Small files in one read and one-shot hash (same digest as streaming).
      value = xx.h64Raw(await readFile(abs, signalOpts));
    } else {
      const h = xx.create64();
      for await (const chunk of (read ?? readFileChunks)(abs, { ...signalOpts, sizeHint: st.size })) h.update(chunk);
      value = h.digest();
    }
    filesRead++;
    const digest = `xxh64:${hex64(value)}`;
    extra[i] = digest;
    // A change within the same timestamp tick as our read would keep size/mtime/ctime: only
    // remember files that were last changed comfortably before we read them.
    if (opts.statCache && startedAt - Math.max(st.mtimeMs, st.ctimeMs) >= racyWindowMs) {
      fresh.push({ path: e.path, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode, digest });
    }
  };

  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < entries.length) {
      throwIfAborted(opts.signal);
      await work(next++);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_FILES, entries.length) }, runner));
  if (fresh.length > 0) opts.statCache?.putMany(root, fresh);
  return { extra, bytes, filesRead };
}

