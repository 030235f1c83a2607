/**
 * The protobuf wire-format writer under ProtoWriter (proto-writer.ts): a growable buffer and the
 * wire primitives (varints, strings, bytes, length-delimited parts), producing exactly the bytes
 * protobufjs' BufferWriter does for the same calls (test/llb/op-encoding.test.ts holds it to that),
 * without its per-message writer objects. One writer is reused for a whole definition: ops are
 * written straight into it, hashed in place and rewound when they turn out to be duplicates.
 *
 * A protobufjs detail is reproduced on purpose, because digests depend on it: negative int32
 * values take 10 bytes (sign-extended to 64 bits). Strings with lone surrogates (invalid Dockerfile
 * bytes, see src/util/utf8-lossless.ts) are written as their original bytes, as the patched
 * protobufjs runtime (pb-runtime.ts) writes and reads them.
 */

import { encodeUtf8Lossless, hasLoneSurrogate } from '../util/utf8-lossless.js';
import { int64Bits, type Int64 } from './proto-int64.js';

/** Wire types used by llb.proto. */
export const VARINT = 0;
export const LEN = 2;

/** protobufjs switches from its JS UTF-8 loop to Buffer#utf8Write at this string length. */
const JS_UTF8_MAX = 40;
/** Strings this long (UTF-16 units) or longer are measured before writing, as protobufjs does. */
const SHORT_STRING_MAX = 0x80;

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/**
 * Buffer#utf8Write (and latin1Write): what Buffer#write(s, offset, 'utf8') calls after checking its
 * arguments, and what protobufjs calls. Not in @types/node, present in every Node release.
 */
type Utf8Writable = Buffer & { utf8Write(s: string, offset: number): number; latin1Write(s: string, offset: number): number };

/** The int32 -1 as a varint. */
const MINUS_ONE = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);

export class ProtoWireWriter {
  protected buf: Utf8Writable;
  /** Write position; everything before it is output. */
  pos = 0;

  constructor(initialSize = 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialSize)) as Utf8Writable;
  }

  /** Makes room for `n` more bytes. */
  protected reserve(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2)) as Utf8Writable;
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /**
   * Continues in a fresh buffer of `size` bytes at position 0. Views handed out before keep the
   * old buffer and its bytes (op-bytes.ts writes parts into slabs this way).
   */
  restart(size: number): void {
    this.buf = Buffer.allocUnsafe(Math.max(16, size)) as Utf8Writable;
    this.pos = 0;
  }

  /**
   * The bytes written from `start` to the current position, as a view (valid until the writer is
   * rewound over them: growing keeps the old buffer's bytes as they were).
   */
  view(start: number): Uint8Array {
    // A plain Uint8Array: Buffer#subarray goes through FastBuffer's constructor, a visible cost
    // when the marshaller takes one view per op to hash it.
    const buf = this.buf;
    return new Uint8Array(buf.buffer, buf.byteOffset + start, this.pos - start);
  }

  /** Copies everything written to `dst` at `at` (no view object is made on the way). */
  copyTo(dst: Uint8Array, at: number): void {
    const buf = this.buf;
    const n = this.pos;
    if (n > 64) {
      dst.set(new Uint8Array(buf.buffer, buf.byteOffset, n), at);
      return;
    }
    for (let i = 0; i < n; i++) dst[at + i] = buf[i] as number;
  }

  /**
   * Everything written, as a plain Uint8Array the caller owns; the writer must not be used after.
   * When the output fills most of the buffer it is handed over as it lies (a whole definition is
   * megabytes, and copying it was a visible share of marshalling); otherwise it is copied, so a
   * small result does not keep a much larger buffer alive.
   */
  finish(): Uint8Array {
    const buf = this.buf;
    if (this.pos >= 64 * 1024 && this.pos >= (buf.length * 3) / 4) return new Uint8Array(buf.buffer, buf.byteOffset, this.pos);
    const out = new Uint8Array(this.pos);
    out.set(buf.subarray(0, this.pos));
    return out;
  }

  tag(field: number, wireType: number): void {
    this.uint32((field << 3) | wireType);
  }

  uint32(value: number): void {
    let v = value >>> 0;
    this.reserve(5);
    const buf = this.buf;
    let pos = this.pos;
    while (v > 127) {
      buf[pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  private varint64(lo: number, hi: number): void {
    this.reserve(10);
    const buf = this.buf;
    let pos = this.pos;
    let l = lo;
    let h = hi;
    while (h) {
      buf[pos++] = (l & 127) | 128;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>>= 7;
    }
    while (l > 127) {
      buf[pos++] = (l & 127) | 128;
      l >>>= 7;
    }
    buf[pos++] = l;
    this.pos = pos;
  }

  /** int32 and enums: negative values are sign-extended to 10 bytes. */
  int32(value: number): void {
    const v = value | 0;
    if (v >= 0) this.uint32(v);
    // -1 (a mount without input or output) as its ten bytes: varint64's loop boxed its halves.
    else if (v === -1) this.raw(MINUS_ONE);
    else this.varint64(v >>> 0, 0xffffffff);
  }

  int64(value: Int64): void {
    if (typeof value === 'object') {
      if (value.low || value.high) this.varint64(value.low >>> 0, value.high >>> 0);
      else this.varint64(0, 0);
      return;
    }
    const [lo, hi] = int64Bits(value);
    this.varint64(lo, hi);
  }

  bool(value: boolean): void {
    this.reserve(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  string(value: string): void {
    const n = value.length;
    if (n === 0) {
      this.reserve(1);
      this.buf[this.pos++] = 0;
      return;
    }
    if (n < JS_UTF8_MAX) {
      // protobufjs' own UTF-8 loop; at most 3 * 39 bytes, so the length is one byte.
      this.reserve(n * 3 + 1);
      const len = this.utf8Js(value, this.pos + 1);
      if (len < 0) {
        this.bytes(encodeUtf8Lossless(value));
        return;
      }
      this.buf[this.pos] = len;
      this.pos += 1 + len;
      return;
    }
    if (hasLoneSurrogate(value)) {
      this.bytes(encodeUtf8Lossless(value));
      return;
    }
    if (n < SHORT_STRING_MAX) {
      this.reserve(n * 3 + 5);
      const at = this.pos;
      this.delimit(at, this.buf.utf8Write(value, at + 1));
      return;
    }
    const len = Buffer.byteLength(value);
    this.uint32(len);
    this.reserve(len);
    this.buf.utf8Write(value, this.pos);
    this.pos += len;
  }

  /** protobufjs' utf8.write, byte for byte; -1 (nothing usable written) at a lone surrogate. */
  private utf8Js(s: string, start: number): number {
    const buf = this.buf;
    let o = start;
    for (let i = 0; i < s.length; i++) {
      let c1 = s.charCodeAt(i);
      let c2: number;
      if (c1 < 128) {
        buf[o++] = c1;
      } else if (c1 < 2048) {
        buf[o++] = (c1 >> 6) | 192;
        buf[o++] = (c1 & 63) | 128;
      } else if ((c1 & 0xfc00) === 0xd800 && ((c2 = s.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
        c1 = 0x10000 + ((c1 & 0x03ff) << 10) + (c2 & 0x03ff);
        i++;
        buf[o++] = (c1 >> 18) | 240;
        buf[o++] = ((c1 >> 12) & 63) | 128;
        buf[o++] = ((c1 >> 6) & 63) | 128;
        buf[o++] = (c1 & 63) | 128;
      } else if ((c1 & 0xf800) === 0xd800) {
        return -1;
      } else {
        buf[o++] = (c1 >> 12) | 224;
        buf[o++] = ((c1 >> 6) & 63) | 128;
        buf[o++] = (c1 & 63) | 128;
      }
    }
    return o - start;
  }

  /** `bytes` fields (a string is taken as base64, as protobufjs does). */
  bytes(value: Uint8Array | string): void {
    const b = typeof value === 'string' ? Buffer.from(value, 'base64') : value;
    const len = b.length;
    this.uint32(len);
    if (len === 0) return;
    this.reserve(len);
    this.buf.set(b, this.pos);
    this.pos += len;
  }

  /** Copies `src[start..end)`, as `raw(src.subarray(start, end))` without making the view. */
  rawRange(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    this.reserve(n);
    const buf = this.buf;
    if (n > 64) {
      buf.set(start === 0 && end === src.length ? src : new Uint8Array(src.buffer, src.byteOffset + start, n), this.pos);
    } else {
      for (let i = 0; i < n; i++) buf[this.pos + i] = src[start + i] as number;
    }
    this.pos += n;
  }

  /** The buffer being written (a part written at [start, pos) stays in it: see `restart`). */
  buffer(): Uint8Array {
    return this.buf;
  }

  /** Pre-encoded bytes, appended as they are (unknown fields kept by a decode). */
  raw(value: Uint8Array): void {
    if (value.length === 0) return;
    this.reserve(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Starts a length-delimited part: reserves one length byte; pass the result to `ldelim`. */
  fork(): number {
    this.reserve(1);
    return this.pos++;
  }

  /**
   * `fork()` for a part that is usually 128 bytes to 16 KiB long (an op, a metadata entry): two
   * length bytes are reserved, so that such a part is not moved by `ldelim2` (a copyWithin per op
   * was a visible share of marshalling). Pass the result to `ldelim2`.
   */
  fork2(): number {
    this.reserve(2);
    const at = this.pos;
    this.pos += 2;
    return at;
  }

  /** Ends a part started with `fork2`: the same bytes as `fork`/`ldelim` would have written. */
  ldelim2(at: number): void {
    const len = this.pos - at - 2;
    if (len >= 0x80 && len < 0x4000) {
      this.buf[at] = (len & 127) | 128;
      this.buf[at + 1] = len >>> 7;
      return;
    }
    // One length byte (move the part back by one) or three and more (`delimit` moves it on).
    this.buf.copyWithin(at + 1, at + 2, this.pos);
    this.pos -= 1;
    this.delimit(at, len);
  }

  /** Ends the part started at `at`, writing its length there (moving the part if it needs more). */
  ldelim(at: number): void {
    this.delimit(at, this.pos - at - 1);
  }

  /** Writes `len` at `at`, where the `len` bytes after one reserved byte are the part. */
  private delimit(at: number, len: number): void {
    const n = varintSize(len);
    if (n > 1) {
      this.reserve(n - 1);
      this.buf.copyWithin(at + n, at + 1, at + 1 + len);
    }
    let v = len;
    let p = at;
    while (v > 127) {
      this.buf[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[p] = v;
    this.pos = at + n + len;
  }
}
