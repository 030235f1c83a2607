/**
 * A directory-backed blob store implementing the registry client's BlobSink and BlobSource, standing
 * in for the content store in tests: writes go to a temp file and are renamed into place only by
 * commit() after the sink's own digest and size check; abort() leaves nothing behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import type { BlobOpenOptions, BlobSink, BlobSource, BlobWriter, BlobWriterOptions } from '../../src/registry/types.js';

class DirWriter extends Writable implements BlobWriter {
  private fh: FileHandle | undefined;
  private readonly hash = createHash('sha256');
  private written = 0;
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(
    private readonly store: DirBlobStore,
    private readonly tmp: string,
    private readonly opts: BlobWriterOptions,
  ) {
    // Not auto-destroyed: the temp file must survive 'finish' until commit() renames it.
    super({ autoDestroy: false });
  }

  override _construct(cb: (e?: Error | null) => void): void {
    open(this.tmp, 'wx').then((fh) => {
      this.fh = fh;
      cb();
    }, cb);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.hash.update(chunk);
    this.written += chunk.length;
    (this.fh as FileHandle).write(chunk).then(() => cb(), cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    (this.fh as FileHandle).close().then(() => {
      this.fh = undefined;
      cb();
    }, cb);
  }

  async commit(): Promise<void> {
    if (this.state !== 'open') throw new Error(`commit after ${this.state}`);
    await new Promise<void>((resolve, reject) => this.end((e?: Error | null) => (e ? reject(e) : resolve())));
    const digest = `sha256:${this.hash.digest('hex')}`;
    if (digest !== this.opts.expected || this.written !== this.opts.size) {
      await this.abort();
      throw new Error(`sink: content is ${digest} (${this.written} bytes), expected ${this.opts.expected} (${this.opts.size})`);
    }
    await rename(this.tmp, this.store.path(digest));
    this.state = 'committed';
    this.store.commits++;
    this.destroy();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    // Runs after _construct has finished, so the temp file exists by now (or never will).
    const fh = this.fh;
    this.fh = undefined;
    const cleanup = async (): Promise<void> => {
      await fh?.close().catch(() => undefined);
      if (this.state !== 'committed') await unlink(this.tmp).catch(() => undefined);
    };
    cleanup().then(() => cb(err), () => cb(err));
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.store.aborts++;
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.once('close', () => resolve());
      this.destroy();
    });
  }
}

export class DirBlobStore implements BlobSink, BlobSource {
  commits = 0;
  aborts = 0;

  constructor(readonly dir: string) {}

  static async create(prefix = 'tsbuild-blobs-'): Promise<DirBlobStore> {
    return new DirBlobStore(await mkdtemp(join(tmpdir(), prefix)));
  }

  path(digest: string): string {
    return join(this.dir, digest.replace(':', '-'));
  }

  async has(digest: string): Promise<boolean> {
    return stat(this.path(digest)).then(
      () => true,
      () => false,
    );
  }

  writer(opts: BlobWriterOptions): BlobWriter {
    return new DirWriter(this, join(this.dir, `.tmp-${randomBytes(6).toString('hex')}`), opts);
  }

  open(digest: string, opts: BlobOpenOptions = {}): Promise<Readable> {
    return Promise.resolve(createReadStream(this.path(digest), { start: opts.offset ?? 0 }));
  }

  read(digest: string): Promise<Buffer> {
    return readFile(this.path(digest));
  }

  /** Committed blob digests, sorted. */
  async list(): Promise<string[]> {
    return (await readdir(this.dir)).filter((n) => !n.startsWith('.tmp-')).map((n) => n.replace('-', ':')).sort();
  }

  /** In-progress files left behind (must be none once an operation has settled). */
  async leftovers(): Promise<string[]> {
    return (await readdir(this.dir)).filter((n) => n.startsWith('.tmp-'));
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
