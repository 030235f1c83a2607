/**
 * The content store: blobs named by their sha256 digest under ROOT/content/blobs/sha256/<hex>.
 * Writes stream through ContentWriter (ingest file → verify → rename), so every file under blobs/
 * is whole. Several processes may share it: writers of the same digest both succeed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, lstatSync, openSync, readSync, statSync, utimesSync } from 'node:fs';
import { readdir, readFile, rename, unlink, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { TsbuildError, throwIfAborted } from '../util/errors.js';
import { ContentWriter } from './content-writer.js';
import type { DataRootPaths } from './data-root.js';
import { ensureCacheDirs } from './data-root.js';
import { digestHex } from './digest.js';
import { fsyncDir, isErrnoCode } from './fs-durable.js';
import { currentProcess, isProcessAlive, ownerPrefix, parseOwnerPrefix } from './process-identity.js';
import type { BlobInfo, IngestCleanupOptions, ReaderOptions, SignalOptions, WriterOptions } from './types.js';

/** Blobs listed between two turns of the event loop. */
const LIST_BATCH = 256;

export interface ContentStoreOptions extends SignalOptions {
  readonly paths: DataRootPaths;
}

export class ContentStore {
  readonly paths: DataRootPaths;

  private constructor(paths: DataRootPaths) {
    this.paths = paths;
  }

  /** Opens (and creates) the content store of a data root. */
  static async open(opts: ContentStoreOptions): Promise<ContentStore> {
    throwIfAborted(opts.signal);
    await ensureCacheDirs(opts.paths);
    return new ContentStore(opts.paths);
  }

  /** Path of a blob file (which may not exist). */
  blobPath(digest: string): string {
    return join(this.paths.blobs, digestHex(digest));
  }

  /** Starts a streaming write. Call commit() to finish it, or abort()/destroy() to discard it. */
  writer(opts: WriterOptions = {}): ContentWriter {
    throwIfAborted(opts.signal);
    return new ContentWriter({ ...opts, ingestDir: this.paths.ingest, blobsDir: this.paths.blobs });
  }

  /** Writes a whole blob. */
  async put(bytes: Uint8Array | string, opts: WriterOptions = {}): Promise<BlobInfo> {
    // A blob already stored under these bytes' digest is whole (see the header): it is claimed
    // instead of written again — a rebuild that changed nothing re-puts the same config and
    // manifest, and each write costs a file and a directory fsync.
    throwIfAborted(opts.signal);
    const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if ((opts.expected === undefined || opts.expected === digest) && (opts.expectedSize === undefined || opts.expectedSize === size) && (await this.claim(digest, opts))) {
      const info = await this.info(digest, opts);
      if (info?.size === size) return info;
    }
    const w = this.writer(opts);
    try {
      if (bytes.length > 0) await new Promise<void>((resolve, reject) => w.write(bytes, (e) => (e ? reject(e) : resolve())));
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w.commit();
  }

  async info(digest: string, opts: SignalOptions = {}): Promise<BlobInfo | undefined> {
    throwIfAborted(opts.signal);
    try {
      // Synchronous, as claim(): one stat syscall (GC walks and puts ask it per blob).
      const st = statSync(this.blobPath(digest));
      return { digest, size: st.size, committedAt: st.mtimeMs };
    } catch (e) {
      if (isErrnoCode(e, 'ENOENT')) return undefined;
      throw e;
    }
  }

  async has(digest: string, opts: SignalOptions = {}): Promise<boolean> {
    return (await this.info(digest, opts)) !== undefined;
  }

  /**
   * "I am going to use this blob": true when it exists, and its mtime is moved to now so that
   * garbage collection, which spares blobs touched after a running operation began, leaves it
   * alone until the caller has made it reachable (named it from an image, a layer entry...).
   * Use it instead of has() wherever an existing blob replaces a write (download, load, import).
   */
  async claim(digest: string, opts: SignalOptions = {}): Promise<boolean> {
    throwIfAborted(opts.signal);
    const now = new Date();
    try {
      // Synchronous: one metadata syscall, where a thread-pool trip costs more CPU than the call;
      // an export claims every layer of its image (issue 10).
      utimesSync(this.blobPath(digest), now, now);
      return true;
    } catch (e) {
      if (isErrnoCode(e, 'ENOENT')) return false;
      throw e;
    }
  }

  /**
   * Garbage collection's delete: the blob is moved aside (into ingest/, owned by this process),
   * and deleted only if `keep(mtime)` says no; else it is moved back. A concurrent claim() either
   * lands before the move (then `keep` sees its mtime) or finds the blob gone (then the claimer
   * writes it again), so a claimed blob is never lost. Returns the bytes freed, or undefined.
   */
  async collect(digest: string, keep: (mtimeMs: number) => boolean): Promise<number | undefined> {
    const path = this.blobPath(digest);
    const aside = join(this.paths.ingest, `${ownerPrefix(currentProcess())}gc-${randomBytes(4).toString('hex')}-${digestHex(digest)}`);
    try {
      await rename(path, aside);
    } catch (e) {
      if (isErrnoCode(e, 'ENOENT')) return undefined;
      throw e;
    }
    const st = await lstat(aside);
    if (keep(st.mtimeMs)) {
      await rename(aside, path);
      return undefined;
    }
    await unlink(aside);
    await fsyncDir(this.paths.blobs);
    return st.size;
  }

  /** A stream of the blob's bytes from `offset`. Throws BLOB_NOT_FOUND. */
  async reader(digest: string, opts: ReaderOptions = {}): Promise<Readable> {
    const info = await this.info(digest, opts);
    if (!info) throw notFound(digest);
    const offset = opts.offset ?? 0;
    if (!Number.isInteger(offset) || offset < 0 || offset > info.size) {
      throw new TsbuildError('INVALID_OFFSET', `offset ${offset} is outside blob ${digest} of ${info.size} bytes`);
    }
    return createReadStream(this.blobPath(digest), { start: offset, ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  /** The whole blob, verified against its digest (BLOB_CORRUPT when it does not match). */
  async readAll(digest: string, opts: SignalOptions = {}): Promise<Buffer> {
    throwIfAborted(opts.signal);
    let data: Buffer;
    try {
      // Manifests, configs and indexes (a few KiB, read by every FROM of every build) with
      // synchronous calls: four thread-pool trips cost more than the read.
      data = readSmallSync(this.blobPath(digest)) ?? (await readFile(this.blobPath(digest), opts.signal ? { signal: opts.signal } : {}));
    } catch (e) {
      if (isErrnoCode(e, 'ENOENT')) throw notFound(digest);
      throw e;
    }
    const actual = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (actual !== digest) throw new TsbuildError('BLOB_CORRUPT', `blob ${digest} is corrupt: its content hashes to ${actual}`);
    return data;
  }

  /** Deletes a blob; false when it did not exist. */
  async delete(digest: string, opts: SignalOptions = {}): Promise<boolean> {
    throwIfAborted(opts.signal);
    try {
      await unlink(this.blobPath(digest));
    } catch (e) {
      if (isErrnoCode(e, 'ENOENT')) return false;
      throw e;
    }
    await fsyncDir(this.paths.blobs);
    return true;
  }

  /**
   * Every blob (files whose name is not a sha256 hex are skipped; check() reports them), but those
   * in `except`, which are not even looked at (a garbage walk lists what is not live).
   */
  async *list(opts: SignalOptions = {}, except?: ReadonlySet<string>): AsyncIterable<BlobInfo> {
    const names = (await readdir(this.paths.blobs)).sort();
    for (const [i, name] of names.entries()) {
      throwIfAborted(opts.signal);
      if (!/^[0-9a-f]{64}$/.test(name) || except?.has(`sha256:${name}`)) continue;
      // Synchronous lstats (a thread-pool trip each cost more CPU than the call; every GC walk
      // lists the whole store), letting other work run every LIST_BATCH blobs.
      if (i > 0 && i % LIST_BATCH === 0) await nextTurn();
      try {
        const st = lstatSync(join(this.paths.blobs, name));
        if (st.isFile()) yield { digest: `sha256:${name}`, size: st.size, committedAt: st.mtimeMs };
      } catch (e) {
        if (!isErrnoCode(e, 'ENOENT')) throw e; // deleted concurrently
      }
    }
  }

  /** Bytes of all blobs. */
  async totalBytes(opts: SignalOptions = {}): Promise<number> {
    let n = 0;
    for await (const b of this.list(opts)) n += b.size;
    return n;
  }

  /**
   * Removes in-progress writes left behind by dead processes (and, with olderThanMs, stale ones of
   * live processes). Returns the removed paths.
   */
  async cleanupIngest(opts: IngestCleanupOptions = {}): Promise<string[]> {
    const removed: string[] = [];
    for (const path of await this.orphanIngest({ staleAfterMs: opts.olderThanMs ?? Infinity, ...(opts.signal ? { signal: opts.signal } : {}) })) {
      await unlink(path).catch((e: unknown) => {
        if (!isErrnoCode(e, 'ENOENT')) throw e;
      });
      removed.push(path);
    }
    return removed;
  }

  /**
   * Ingest files whose writer is dead, or (for live writers and unparseable names) older than
   * staleAfterMs.
   */
  async orphanIngest(opts: SignalOptions & { readonly staleAfterMs: number }): Promise<string[]> {
    const out: string[] = [];
    const now = Date.now();
    for (const name of (await readdir(this.paths.ingest)).sort()) {
      throwIfAborted(opts.signal);
      const path = join(this.paths.ingest, name);
      const owner = parseOwnerPrefix(name);
      if (owner && !isProcessAlive(owner)) {
        out.push(path);
        continue;
      }
      try {
        const st = await lstat(path);
        if (now - st.mtimeMs > opts.staleAfterMs) out.push(path);
      } catch (e) {
        if (!isErrnoCode(e, 'ENOENT')) throw e;
      }
    }
    return out;
  }
}

function notFound(digest: string): TsbuildError {
  return new TsbuildError('BLOB_NOT_FOUND', `blob ${digest} not found in the content store`);
}

/** Blobs up to this size are read by readAll with synchronous calls. */
const SYNC_READ_MAX = 256 * 1024;

/** The file's bytes when it holds at most SYNC_READ_MAX of them, else undefined (read it asynchronously). */
function readSmallSync(path: string): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > SYNC_READ_MAX) return undefined;
    const data = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, data, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return got === size ? data : data.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
