/** Layer blobs come uncompressed, gzip'ed or zstd'ed; the first bytes say which. */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LayerError, LayerErrorCode } from './errors.js';
import { COMPRESSION_HEAD_BYTES, detectCompression } from '../../util/compression.js';
import { zstdDecompressStream } from '../../util/zstd-binding.js';


/** Yields `first` and then the rest of `it`. */
async function* prepend(first: Buffer[], it: AsyncIterator<Uint8Array>): AsyncGenerator<Buffer> {
  for (const b of first) yield b;
  for (;;) {
    const r = await it.next();
    if (r.done) return;
    yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
  }
}

/**
 * The uncompressed tar bytes of a layer: gzip and zstd are recognised by their magic bytes and
 * decoded on the fly (also multi-member gzip and multi-frame zstd); anything else is taken as a
 * plain tar. xz and bzip2 are recognised and refused with a clear error (no registry serves them).
 */
export async function* decompressLayer(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let have = 0;
  while (have < COMPRESSION_HEAD_BYTES) {
    const r = await it.next();
    if (r.done) break;
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    head.push(b);
    have += b.length;
  }
  const start = Buffer.concat(head);
  const kind = detectCompression(start);
  if (kind !== 'none' && kind !== 'gzip' && kind !== 'zstd') throw new LayerError(LayerErrorCode.unsupported, `${kind}-compressed layers are not supported (use gzip, zstd or none)`);
  const rest = prepend(start.length > 0 ? [start] : [], it);
  if (kind === 'none') {
    yield* rest;
    return;
  }
  const gunzip = kind === 'gzip' ? createGunzip() : await zstdDecompressStream();
  const input = Readable.from(rest, { objectMode: false });
  input.on('error', (e) => gunzip.destroy(e));
  input.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (e) {
    if (e instanceof LayerError) throw e;
    throw new LayerError(LayerErrorCode.malformed, `${kind} stream is corrupt: ${(e as Error).message}`);
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}
