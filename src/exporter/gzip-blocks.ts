/**
 * gzip for layer blobs, pigz-style: the input is cut into 1 MiB blocks, each block is deflated on
 * its own (with the previous block's last 32 KiB as dictionary, so the ratio stays zlib's) in
 * libuv's thread pool, several at once, and the raw deflate outputs are joined in order into one
 * gzip member. A block that cannot shrink (already-compressed data: .gz, .jpg, .whl, random bytes
 * — byte entropy above ENTROPY_STORED bits) is written as stored deflate blocks without running
 * deflate at all: on the reference machine deflate turns such data around at only ~25 MiB/s.
 *
 * The output is a plain, standard gzip stream (one member; the deflate blocks of each part end on
 * a sync flush, the last part is an empty final block), decoded by every gunzip. It depends only on
 * the input bytes, the level and zlib's version — never on how the input was chunked or on timing
 * — so SOURCE_DATE_EPOCH exports stay reproducible.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { constants, crc32, deflateRaw } from 'node:zlib';

/** Bytes per independently deflated block. */
export const GZIP_BLOCK = 1 << 20;
/** Blocks being deflated at once (libuv's pool has 4 threads by default). */
const IN_FLIGHT = 4;
/** Blocks whose byte entropy is above this (bits per byte, of 8) are stored, not deflated. */
const ENTROPY_STORED = 7.9;
/** deflate's window: the dictionary a block is primed with. */
const WINDOW = 32 * 1024;
/** Largest stored deflate block. */
const STORED_MAX = 0xffff;

/**
 * Shannon entropy of the bytes, in bits per byte, estimated from every `stride`-th byte (a quarter
 * of a block tells compressible from not as well as all of it, at a quarter of the cost).
 */
export function byteEntropy(buf: Uint8Array, stride = 1): number {
  const counts = new Uint32Array(256);
  let n = 0;
  for (let i = 0; i < buf.length; i += stride, n++) {
    const b = buf[i] as number;
    counts[b] = (counts[b] as number) + 1;
  }
  let h = 0;
  for (let b = 0; b < 256; b++) {
    const c = counts[b] as number;
    if (c === 0) continue;
    const p = c / n;
    h -= p * Math.log2(p);
  }
  return h;
}

/** `data` as non-final stored deflate blocks (the stream is byte-aligned before and after). */
function storedBlocks(data: Buffer): Buffer {
  const count = Math.max(1, Math.ceil(data.length / STORED_MAX));
  const out = Buffer.allocUnsafe(data.length + count * 5);
  let o = 0;
  for (let i = 0; i < data.length || o === 0; i += STORED_MAX) {
    const len = Math.min(STORED_MAX, data.length - i);
    out[o++] = 0x00; // BFINAL=0, BTYPE=00 (stored), padding to the byte boundary
    out.writeUInt16LE(len, o);
    out.writeUInt16LE(~len & 0xffff, o + 2);
    o += 4;
    data.copy(out, o, i, i + len);
    o += len;
  }
  return out.subarray(0, o);
}

function deflateBlock(data: Buffer, level: number, dictionary: Buffer | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    deflateRaw(data, { level, finishFlush: constants.Z_SYNC_FLUSH, ...(dictionary ? { dictionary } : {}) }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

/** The gzip header zlib writes: no name, mtime 0, XFL by level, OS 3 (Unix). */
function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, xfl, 0x03]);
}

/** An empty final block (fixed Huffman, end-of-block only). */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

export interface BlockGzipOptions {
  /** zlib level 0-9; default 6. Level 0 stores every block. */
  readonly level?: number;
}

/** A Transform from bytes to one gzip member, made as described in the module doc. */
export class BlockGzip extends Transform {
  private readonly level: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private crc = 0;
  private isize = 0;
  private previousTail: Buffer | undefined;
  private readonly inFlight: Promise<Buffer>[] = [];

  constructor(opts: BlockGzipOptions = {}) {
    super();
    const level = opts.level ?? constants.Z_DEFAULT_COMPRESSION;
    this.level = level < 0 ? 6 : level;
    this.push(gzipHeader(this.level));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.drainBlocks(false).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.drainBlocks(true)
      .then(async () => {
        while (this.inFlight.length > 0) this.push(await this.inFlight.shift());
        const trailer = Buffer.allocUnsafe(8);
        trailer.writeUInt32LE(this.crc >>> 0, 0);
        trailer.writeUInt32LE(this.isize >>> 0, 4);
        this.push(Buffer.concat([FINAL_BLOCK, trailer]));
        cb();
      })
      .catch(cb);
  }

  /** Starts a block for every full GZIP_BLOCK pending (and the rest when `all`), in order. */
  private async drainBlocks(all: boolean): Promise<void> {
    while (this.pendingBytes >= GZIP_BLOCK || (all && this.pendingBytes > 0)) {
      const block = this.takeBlock(Math.min(GZIP_BLOCK, this.pendingBytes));
      this.crc = crc32(block, this.crc);
      this.isize = (this.isize + block.length) % 0x100000000;
      const dictionary = this.previousTail;
      this.previousTail = block.length >= WINDOW ? block.subarray(block.length - WINDOW) : Buffer.concat([dictionary ?? Buffer.alloc(0), block]).subarray(-WINDOW);
      const job = this.level === 0 || byteEntropy(block, 4) > ENTROPY_STORED
        ? Promise.resolve(storedBlocks(block))
        : deflateBlock(block, this.level, dictionary);
      // Rejections are handled where the job is awaited, in order.
      job.catch(() => undefined);
      this.inFlight.push(job);
      while (this.inFlight.length >= IN_FLIGHT) this.push(await this.inFlight.shift());
    }
  }

  /** Removes the first `n` pending bytes as one buffer. */
  private takeBlock(n: number): Buffer {
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const head = this.pending[0] as Buffer;
      if (head.length <= need) {
        parts.push(head);
        this.pending.shift();
        need -= head.length;
      } else {
        parts.push(head.subarray(0, need));
        this.pending[0] = head.subarray(need);
        need = 0;
      }
    }
    this.pendingBytes -= n;
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, n);
  }
}
