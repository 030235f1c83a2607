/**
 * The protobufjs runtime the generated LLB code imports (scripts/gen-proto.mjs points its
 * `--dependency` here). Two adjustments:
 *
 * - int64 fields decode to plain numbers, never `Long` objects: every int64 in llb.proto (sizes,
 *   Unix-second timestamps) is far below 2^53, and a Long would silently break truthiness and
 *   arithmetic in the worker.
 * - Strings are bytes, as in BuildKit (Go strings): a Dockerfile byte that is not valid UTF-8 is
 *   carried through the definition as that byte. The frontend decodes such bytes to lone
 *   surrogates U+DC80..U+DCFF (src/util/utf8-lossless.ts); writers put the raw byte back on the
 *   wire and readers turn it into the same surrogate again, where protobufjs would write U+FFFD or
 *   a 3-byte surrogate and its proto3 reader would reject the definition. Well-formed strings take
 *   protobufjs' own paths unchanged, so their bytes (and every digest) stay as they were.
 */
import { isUtf8 } from 'node:buffer';
import $protobuf from 'protobufjs/minimal.js';
import { decodeUtf8Lossless, encodeUtf8Lossless, hasLoneSurrogate } from '../util/utf8-lossless.js';

($protobuf.util as { Long: unknown }).Long = undefined;
$protobuf.configure();

type StringReader = { pos: number; len: number; buf: Uint8Array; uint32(): number };

function readStringLossless(this: StringReader): string {
  const length = this.uint32();
  const start = this.pos;
  const end = start + length;
  if (end > this.len) throw new RangeError(`index out of range: ${start} + ${length} > ${this.len}`);
  this.pos = end;
  const bytes = this.buf.subarray(start, end);
  return isUtf8(bytes) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : decodeUtf8Lossless(bytes);
}

type Readers = { prototype: { string: unknown; stringVerify?: unknown } };
for (const R of [$protobuf.Reader, $protobuf.BufferReader] as unknown as Readers[]) {
  R.prototype.string = readStringLossless;
  R.prototype.stringVerify = readStringLossless;
}

type Writers = { prototype: { string(this: $protobuf.Writer, v: string): $protobuf.Writer } };
for (const W of [$protobuf.Writer, $protobuf.BufferWriter] as unknown as Writers[]) {
  const original = W.prototype.string;
  W.prototype.string = function writeString(this: $protobuf.Writer, value: string): $protobuf.Writer {
    return hasLoneSurrogate(value) ? this.bytes(encodeUtf8Lossless(value)) : original.call(this, value);
  };
}

export default $protobuf;
