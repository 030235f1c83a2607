/**
 * A streaming write into the content store. Bytes go to ROOT/content/ingest/<owner>-<random>,
 * hashed on the way; commit() fsyncs, verifies the expected digest/size, renames the file into
 * blobs/sha256/<hex> and fsyncs the directory. Until that rename nothing under blobs/ exists, so a
 * crash can leave only an ingest file (which cleanupIngest/repair removes), never a half blob.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CancelledError, TsbuildError } from '../util/errors.js';
import { digestHex } from './digest.js';
import { fsyncDir } from './fs-durable.js';
import { currentProcess, ownerPrefix } from './process-identity.js';
import type { BlobInfo, WriterOptions } from './types.js';

export interface ContentWriterInit extends WriterOptions {
  readonly ingestDir: string;
  readonly blobsDir: string;
}

export class ContentWriter extends Writable {
  /** The in-progress file (removed on abort, failure or commit). */
  readonly tempPath: string;
  private readonly hash = createHash('sha256');
  private readonly init: ContentWriterInit;
  private fh: FileHandle | undefined;
  private written = 0;
  private committed: BlobInfo | undefined;
  private committing: Promise<BlobInfo> | undefined;
  private readonly onAbort: () => void;

  constructor(init: ContentWriterInit) {
    // Validated before super(): Writable schedules _construct as soon as it exists.
    if (init.expected !== undefined) digestHex(init.expected);
    // autoDestroy off: the file must outlive 'finish' until commit() has renamed it.
    super({ autoDestroy: false, emitClose: true, decodeStrings: true });
    this.init = init;
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
    open(this.tempPath, 'wx', 0o644).then((fh) => {
      this.fh = fh;
      callback();
    }, callback);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeAll(chunk).then(() => callback(), callback);
  }

  private async writeAll(chunk: Buffer): Promise<void> {
    const fh = this.fh;
    if (!fh) throw new Error('content writer is not open');
    this.hash.update(chunk);
    let off = 0;
    while (off < chunk.length) {
      const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
      off += bytesWritten;
    }
    this.written += chunk.length;
  }

  override _final(callback: (error?: Error | null) => void): void {
    const fh = this.fh;
    if (!fh) {
      callback(new Error('content writer is not open'));
      return;
    }
    this.fh = undefined;
    fh.sync().then(() => fh.close()).then(() => callback(), (e: unknown) => {
      fh.close().catch(() => undefined);
      callback(e as Error);
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.init.signal?.removeEventListener('abort', this.onAbort);
    const fh = this.fh;
    this.fh = undefined;
    const cleanup = async (): Promise<void> => {
      if (fh) await fh.close().catch(() => undefined);
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
      await rename(this.tempPath, target);
      this.committed = { digest, size: this.written, committedAt: (await stat(target)).mtimeMs };
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
