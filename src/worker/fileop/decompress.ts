/**
 * Streaming decompression of a file whose compression src/util/compression.ts detected: gzip through zlib, bzip2/xz/zstd through the `bzip2 -dc`, `xz -dc` and
 * `zstd -dc` binaries, so nothing is buffered whole and no extra npm packages are needed.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { assertNever } from '../../util/errors.js';
import type { Compression } from '../../util/compression.js';


/** Reads up to `n` bytes from the start of a file. */
export async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function toolFor(c: Exclude<Compression, 'none' | 'gzip'>): string {
  switch (c) {
    case 'bzip2':
      return 'bzip2';
    case 'xz':
      return 'xz';
    case 'zstd':
      return 'zstd';
    default:
      return assertNever(c, 'compression');
  }
}

/**
 * A stream of the file's decompressed bytes. Destroying the stream stops the decompressor (a
 * child process is killed). A decompressor failure surfaces as a stream error.
 */
export function openDecompressed(path: string, compression: Compression, signal?: AbortSignal): Readable {
  const file = createReadStream(path, signal ? { signal } : {});
  if (compression === 'none') return file;
  if (compression === 'gzip') {
    const gunzip = createGunzip();
    file.on('error', (e) => gunzip.destroy(e));
    gunzip.on('close', () => file.destroy());
    return file.pipe(gunzip);
  }
  const tool = toolFor(compression);
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  const stderr: Buffer[] = [];
  let finished = false;
  child.stderr.on('data', (b: Buffer) => stderr.push(b));
  // The child may exit before reading everything (we stop after a header): EPIPE is expected then.
  child.stdin.on('error', () => undefined);
  file.on('error', (e) => {
    out.destroy(e);
    child.kill('SIGKILL');
  });
  file.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('error', (e) => out.destroy(new Error(`${tool}: ${e.message}`)));
  child.on('close', (code, sig) => {
    finished = true;
    if (code === 0) {
      child.stdout.unpipe(out);
      out.end();
    } else if (!out.destroyed) {
      const why = Buffer.concat(stderr).toString('utf8').trim() || `exit ${code ?? sig}`;
      out.destroy(new Error(`${tool} -dc: ${why}`));
    }
  });
  out.on('close', () => {
    if (!finished) {
      file.destroy();
      child.kill('SIGKILL');
    }
  });
  signal?.addEventListener('abort', () => out.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted')), { once: true });
  return out;
}

/** Reads the first `n` bytes of a stream, then destroys it. */
export async function readStreamHead(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      chunks.push(b);
      total += b.length;
      if (total >= n) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, n);
}
