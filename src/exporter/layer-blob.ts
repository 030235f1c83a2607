/**
 * Turns an uncompressed layer tar stream into a blob: the diff_id (sha256 of the tar) and the blob
 * digest (sha256 of what is stored) are computed while streaming, so a layer is never held in memory
 * (gzip-blocks.ts keeps at most a few 1 MiB blocks; zstd a few of its jobs).
 */
import { pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import { ContentWriter } from '../cache/content-writer.js';
import { DigestStream } from './digest-stream.js';
import { compressor, layerMediaType, type Compression } from './layer-compress.js';

export { layerMediaType, type Compression };

export interface LayerBlobInfo {
  /** sha256 of the stored blob. */
  readonly digest: string;
  readonly size: number;
  /** sha256 of the uncompressed tar. */
  readonly diffId: string;
  readonly uncompressedSize: number;
  readonly compression: Compression;
  /**
   * When the layer's snapshot was made (ISO 8601), for the history `created` time of a step whose
   * entry has none: a cached step keeps its time, so an unchanged rebuild keeps its image ID.
   */
  readonly createdAt?: string;
}

export interface CompressOptions {
  readonly compression: Compression;
  /** gzip 0-9 (default 6, as zlib); zstd 0-22 (default 3). */
  readonly level?: number;
  readonly signal?: AbortSignal;
}

/** Streams `tar` through the compression into `sink`, measuring both ends. */
export async function writeLayerBlob(tar: Readable, sink: Writable, opts: CompressOptions): Promise<LayerBlobInfo> {
  if (opts.compression === 'uncompressed' && sink instanceof ContentWriter) {
    // The stored blob is the tar: the writer's own sha256 is both digests (a 100,000-file layer
    // is ~675 MB; each extra pass over it cost ~0.6 s of CPU).
    await pipeline(tar, sink, opts.signal ? { signal: opts.signal } : {});
    const m = sink.measured();
    return { digest: m.digest, size: m.size, diffId: m.digest, uncompressedSize: m.size, compression: 'uncompressed' };
  }
  const raw = new DigestStream();
  const stored = new DigestStream();
  const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream> = [tar, raw];
  const c = await compressor(opts.compression, opts.level);
  if (c) stages.push(c);
  stages.push(stored, sink);
  await pipeline(stages as unknown as [Readable, ...NodeJS.ReadWriteStream[], Writable], opts.signal ? { signal: opts.signal } : {});
  const r = raw.result();
  const s = stored.result();
  return { digest: s.digest, size: s.size, diffId: r.digest, uncompressedSize: r.size, compression: opts.compression };
}
