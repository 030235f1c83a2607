/**
 * A streaming write into the content store. Bytes go to ROOT/content/ingest/<owner>-<random>,
 * hashed on the way; commit() fsyncs, verifies the expected digest/size, renames the file into
 * blobs/sha256/<hex> and fsyncs the directory. Until that rename nothing under blobs/ exists, so a
 * crash can leave only an ingest file (which cleanupIngest/repair removes), never a half blob.
 *
 * Each chunk is hashed on the event loop and then written at its own offset by a thread-pool
 * thread. With `chunksUnchanged` the next chunk is taken while that write runs (up to
 * IN_FLIGHT_BYTES not yet written), so hashing a chunk overlaps writing the one before instead of
 * waiting for it (a 26 MB layer tar, examples/single, was hash, write, hash, write…); a failed
 * write then fails the next write or the end.
 *
 * Every FLUSH_BYTES the bytes written so far are flushed (fdatasync, one at a time, beside the
 * writes that follow), so the disk writes a big blob while it is still being made and commit()'s
 * fsync has only the tail left: that fsync alone was 16–20 ms of the 26 MB layer above, on the
 * build's critical path (its export waits for the last layer).
 *
 * The thread pool gets only what can take long: the fsyncs and the writes of big chunks. Opening,
 * closing, renaming and the stat after the rename are synchronous (microseconds each), and so is
 * the write of a chunk of at most SYNC_WRITE_MAX (a config, a manifest, a small layer's only
 * chunk): each trip waits for a pool thread and then for an event-loop turn, 1–5 ms apiece on a
 * loaded machine, and a small blob made 9 of them one after another where it now makes 2 (the
 * fsync and the directory's fsync).
 */
import { createHash, randomBytes } from 'node:crypto';
import fs, { closeSync, openSync, renameSync, statSync, write, writeSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CancelledError, TsbuildError } from '../util/errors.js';
import { digestHex } from './digest.js';
import { fsyncDir, onPool } from './fs-durable.js';
import { currentProcess, ownerPrefix } from './process-identity.js';
import type { BlobInfo, WriterOptions } from './types.js';

/** Bytes handed to the thread pool and not yet written, at most (a layer tar's chunks are 1 MiB). */
const IN_FLIGHT_BYTES = 4 * 1024 * 1024;
/**
 * Bytes written between two early flushes. 4 MiB: the 26 MB layer's write to commit took 52 → 37
 * ms (median of 9, interleaved; 8 MiB: 43 ms, 2 MiB: 42 ms).
 */
const FLUSH_BYTES = 4 * 1024 * 1024;
/** Chunks up to this size are written synchronously (page-cache copies of a few microseconds). */
const SYNC_WRITE_MAX = 64 * 1024;

export interface ContentWriterInit extends WriterOptions {
  readonly ingestDir: string;
  readonly blobsDir: string;
}

export class ContentWriter extends Writable {
  /** The in-progress file (removed on abort, failure or commit). */
  readonly tempPath: string;
  private readonly hash = createHash('sha256');
  private readonly init: ContentWriterInit;
  private fd: number | undefined;
  private written = 0;
  /** Writes (and the early flush) started and not finished. */
  private readonly inFlight = new Set<Promise<void>>();
  private inFlightBytes = 0;
  /** roomFor() waits while this many bytes are in flight: 1 without `chunksUnchanged` (all of them). */
  private readonly inFlightLimit: number;
  /** Bytes whose writes started after the last early flush started. */
  private unflushed = 0;
  private flushing = false;
  /** The first write or flush that failed; every later write and the end fail with it. */
  private failed: Error | undefined;
  private committed: BlobInfo | undefined;
  private committing: Promise<BlobInfo> | undefined;
  private readonly onAbort: () => void;

  constructor(init: ContentWriterInit) {
    // Validated before super(): Writable schedules _construct as soon as it exists.
    if (init.expected !== undefined) digestHex(init.expected);
    // autoDestroy off: the file must outlive 'finish' until commit() has renamed it.
    super({ autoDestroy: false, emitClose: true, decodeStrings: true });
    this.init = init;
    this.inFlightLimit = init.chunksUnchanged === true ? IN_FLIGHT_BYTES : 1;
    this.tempPath = join(init.ingestDir, `${ownerPrefix(currentProcess())}${randomBytes(8).toString('hex')}`);
    // Errors reach the caller through commit() or pipeline(); without a listener an abort that
    // arrives while nobody is writing would crash the process.
    this.on('error', () => undefined);
    this.onAbort = () => this.destroy(new CancelledError(init.signal?.reason));
    if (init.signal?.aborted) queueMicrotask(this.onAbort);
    else init.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Bytes written so far. */
  get size(): number {
    return this.written;
  }

  /**
   * sha256 and size of what was written so far (once finished: of the whole blob). Lets a caller
   * that needs the digest before commit (an uncompressed layer: digest = diff_id) skip hashing the
   * same bytes a second time.
   */
  measured(): { readonly digest: string; readonly size: number } {
    return { digest: `sha256:${this.hash.copy().digest('hex')}`, size: this.written };
  }

  override _construct(callback: (error?: Error | null) => void): void {
    try {
      this.fd = openSync(this.tempPath, 'wx', 0o644);
    } catch (e) {
      callback(e as Error);
      return;
    }
    callback();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    if (this.failed) {
      callback(this.failed);
      return;
    }
    if (fd === undefined) {
      callback(new Error('content writer is not open'));
      return;
    }
    this.hash.update(chunk);
    if (chunk.length <= SYNC_WRITE_MAX) {
      try {
        writeAtSync(fd, chunk, this.written);
      } catch (e) {
        this.failed ??= e as Error;
        callback(this.failed);
        return;
      }
      this.written += chunk.length;
      this.unflushed += chunk.length;
      if (this.unflushed >= FLUSH_BYTES && !this.flushing) this.flushEarly(fd);
      callback();
      return;
    }
    const write = writeAt(fd, chunk, this.written).catch((e: unknown) => {
      this.failed ??= e as Error;
    }).finally(() => {
      this.inFlight.delete(write);
      this.inFlightBytes -= chunk.length;
    });
    this.inFlight.add(write);
    this.inFlightBytes += chunk.length;
    this.written += chunk.length;
    this.unflushed += chunk.length;
    if (this.unflushed >= FLUSH_BYTES && !this.flushing) this.flushEarly(fd);
    void this.roomFor().then(() => callback(this.failed), callback);
  }

  /** fdatasync of what the writes started so far wrote, once they are done; no wait for it here. */
  private flushEarly(fd: number): void {
    this.flushing = true;
    this.unflushed = 0;
    const flush = Promise.all(this.inFlight).then(() => onPool((cb) => fs.fdatasync(fd, cb))).catch((e: unknown) => {
      this.failed ??= e as Error;
    }).finally(() => {
      this.inFlight.delete(flush);
      this.flushing = false;
    });
    this.inFlight.add(flush);
  }

  /** Resolves once fewer than `inFlightLimit` bytes are still being written. */
  private async roomFor(): Promise<void> {
    while (this.inFlightBytes >= this.inFlightLimit && !this.failed) await Promise.race(this.inFlight);
  }

  /** Resolves once every write and flush started has finished (failed ones included). */
  private async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    if (fd === undefined) {
      callback(new Error('content writer is not open'));
      return;
    }
    this.fd = undefined;
    if (!this.failed) this.init.onHashed?.(this.measured());
    this.settled().then(() => {
      if (this.failed) throw this.failed;
      // Through the module object, as the early flush: a test can see the order of the two.
      return onPool((cb) => fs.fsync(fd, cb));
    }).then(() => closeSync(fd)).then(() => callback(), (e: unknown) => {
      closeQuietly(fd);
      callback(e as Error);
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.init.signal?.removeEventListener('abort', this.onAbort);
    const fd = this.fd;
    this.fd = undefined;
    const cleanup = async (): Promise<void> => {
      // The file is closed (and, uncommitted, removed) only after the writes still running.
      await this.settled();
      if (fd !== undefined) closeQuietly(fd);
      if (!this.committed) await unlink(this.tempPath).catch(() => undefined);
    };
    cleanup().then(() => callback(error), () => callback(error));
  }

  /**
   * Ends the stream (if not ended), verifies and moves the blob into place. Returns its info.
   * On any failure the temp file is removed and the writer is destroyed.
   */
  commit(): Promise<BlobInfo> {
    this.committing ??= this.doCommit();
    return this.committing;
  }

  /** Discards the write. */
  async abort(): Promise<void> {
    // Already closed (e.g. destroyed by a pipeline abort): 'close' will not fire again.
    if (this.committed || this.closed) return;
    await new Promise<void>((resolve) => {
      this.once('close', () => resolve());
      this.destroy();
    });
  }

  private async doCommit(): Promise<BlobInfo> {
    try {
      await this.finish();
      if (this.init.signal?.aborted) throw new CancelledError(this.init.signal.reason);
      const hex = this.hash.digest('hex');
      const digest = `sha256:${hex}`;
      if (this.init.expected !== undefined && this.init.expected !== digest) {
        throw new TsbuildError('BLOB_DIGEST_MISMATCH', `content digest mismatch: expected ${this.init.expected}, got ${digest}`);
      }
      if (this.init.expectedSize !== undefined && this.init.expectedSize !== this.written) {
        throw new TsbuildError('BLOB_SIZE_MISMATCH', `content size mismatch for ${digest}: expected ${this.init.expectedSize} bytes, got ${this.written}`);
      }
      const target = join(this.init.blobsDir, hex);
      // rename(2) replaces atomically: a concurrent writer of the same digest wrote identical bytes.
      renameSync(this.tempPath, target);
      this.committed = { digest, size: this.written, committedAt: statSync(target).mtimeMs };
      await fsyncDir(this.init.blobsDir);
      this.destroy();
      return this.committed;
    } catch (e) {
      this.destroy();
      await new Promise<void>((resolve) => (this.closed ? resolve() : this.once('close', () => resolve())));
      throw e;
    }
  }

  private finish(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.destroyed) {
        reject(this.errored ?? new TsbuildError('BLOB_WRITE_ABORTED', 'content write was aborted'));
        return;
      }
      if (this.writableFinished) {
        resolve();
        return;
      }
      const onError = (e: Error): void => {
        this.off('finish', onFinish);
        reject(e);
      };
      const onFinish = (): void => {
        this.off('error', onError);
        resolve();
      };
      this.once('error', onError);
      this.once('finish', onFinish);
      this.once('close', () => reject(this.errored ?? new TsbuildError('BLOB_WRITE_ABORTED', 'content write was aborted')));
      if (!this.writableEnded) this.end();
    });
  }
}

/** All of `chunk` written at `position`, in the thread pool. */
async function writeAt(fd: number, chunk: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const at = off;
    off += await onPool<number>((cb) => write(fd, chunk, at, chunk.length - at, position + at, (e, n) => cb(e, n)));
  }
}

/** All of `chunk` written at `position`, on this thread. */
function writeAtSync(fd: number, chunk: Buffer, position: number): void {
  let off = 0;
  while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off, position + off);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed or a late I/O error: the file is being discarded anyway
  }
}
