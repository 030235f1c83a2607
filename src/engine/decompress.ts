/**
 * Opens a possibly compressed stream as plain bytes, detecting gzip, bzip2, xz and zstd by their
 * magic bytes (src/util/compression.ts; gzip through zlib; the others through the Debian tools, streaming).
 */
import { spawn } from 'node:child_process';
import { createGunzip } from 'node:zlib';
import { PassThrough, type Readable } from 'node:stream';
import { TsbuildError } from '../util/errors.js';
import { COMPRESSION_HEAD_BYTES, detectCompression } from '../util/compression.js';


export async function openDecompressed(src: Readable, signal: AbortSignal): Promise<Readable> {
  // Pull the first bytes, then replay them ahead of the rest of the stream.
  const iter = src[Symbol.asyncIterator]();
  const first: Buffer[] = [];
  let len = 0;
  while (len < COMPRESSION_HEAD_BYTES) {
    const r = await iter.next();
    if (r.done) break;
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    first.push(b);
    len += b.length;
  }
  const head = Buffer.concat(first);
  const replay = new PassThrough();
  void (async () => {
    try {
      replay.write(head);
      for (let r = await iter.next(); !r.done; r = await iter.next()) {
        if (!replay.write(r.value)) await new Promise((res) => replay.once('drain', res));
      }
      replay.end();
    } catch (e) {
      replay.destroy(e as Error);
    }
  })();
  const kind = detectCompression(head);
  switch (kind) {
    case 'none':
      return replay;
    case 'gzip':
      return replay.pipe(createGunzip());
    default: {
      const tool = kind === 'bzip2' ? 'bzip2' : kind === 'xz' ? 'xz' : 'zstd';
      const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'], signal });
      const out = new PassThrough();
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      replay.pipe(child.stdin);
      child.stdout.pipe(out, { end: false });
      child.on('error', (e) => out.destroy(new TsbuildError('DECOMPRESS_FAILED', `${tool}: ${e.message}`)));
      child.on('close', (code) => (code === 0 ? out.end() : out.destroy(new TsbuildError('DECOMPRESS_FAILED', `${tool} -dc failed (${code}): ${err.trim()}`))));
      return out;
    }
  }
}

