/**
 * A BlobSource over in-memory buffers: for manifests and configs a caller has just built, and
 * for layering over another source (`new MemoryBlobSource(blobs, { fallback })`).
 */
import { Readable } from 'node:stream';
import { TsbuildError } from '../util/errors.js';
import { sha256Digest } from './digest.js';
import type { BlobOpenOptions, BlobSource } from './types.js';

export interface MemoryBlobSourceOptions {
  /** Asked for digests this source does not hold. */
  readonly fallback?: BlobSource;
}

export class MemoryBlobSource implements BlobSource {
  private readonly blobs = new Map<string, Buffer>();
  private readonly fallback: BlobSource | undefined;

  constructor(blobs: Iterable<Buffer | string> = [], opts: MemoryBlobSourceOptions = {}) {
    for (const b of blobs) this.add(b);
    this.fallback = opts.fallback;
  }

  /** Adds a blob; returns its sha256 digest. */
  add(data: Buffer | string): string {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const digest = sha256Digest(buf);
    this.blobs.set(digest, buf);
    return digest;
  }

  open(digest: string, opts: BlobOpenOptions = {}): Promise<Readable> {
    const b = this.blobs.get(digest);
    if (!b) {
      if (this.fallback) return this.fallback.open(digest, opts);
      return Promise.reject(new TsbuildError('BLOB_NOT_FOUND', `blob ${digest} is not in the push source`));
    }
    return Promise.resolve(Readable.from([b.subarray(opts.offset ?? 0)], { objectMode: false }));
  }
}
