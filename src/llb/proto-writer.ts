/**
 * The proto3 field writers the hand-written LLB encoder (op-encoding.ts) calls, on top of the
 * wire primitives of ProtoWireWriter (proto-wire-writer.ts): each field is omitted when it holds
 * its default, with protobufjs' exact checks, so that the bytes are those of protobufjs' generated
 * `encode`. Two writers have no protobufjs counterpart and exist for speed: `sha256Field` writes a
 * digest without building its string, and `sharedStringsField` copies the encoding of a list many
 * ops share (an ExecOp's env) instead of encoding it again.
 */

import { isZeroInt64, type Int64 } from './proto-int64.js';
import { LEN, ProtoWireWriter, VARINT } from './proto-wire-writer.js';
import { StringsMemo } from './strings-memo.js';

const SHA256_PREFIX = 'sha256:';
/** `sha256:` as bytes. */
const SHA256_PREFIX_BYTES = Uint8Array.from(Buffer.from('sha256:', 'latin1'));

export class ProtoWriter extends ProtoWireWriter {
  /** Encodings written by `sharedStringsField` (strings-memo.ts). */
  private readonly stringsMemo = new StringsMemo();

  /**
   * A string field holding `sha256:` + `hex` (64 hex digits as crypto writes them): the bytes of
   * `stringField(field, 'sha256:' + hex)` without building the string (the marshaller writes one
   * per op input and per metadata entry).
   */
  sha256Field(field: number, hex: string): void {
    if (hex.length !== 64) throw new Error(`internal: not a sha256 hex digest: ${hex}`);
    this.tag(field, LEN);
    this.reserve(1 + SHA256_PREFIX.length + 64);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = SHA256_PREFIX.length + 64;
    for (let i = 0; i < SHA256_PREFIX_BYTES.length; i++) buf[p++] = SHA256_PREFIX_BYTES[i] as number;
    // The bytes a charCodeAt loop stored (each code unit's low byte), ~50 ns a digest, not ~170.
    buf.latin1Write(hex, p);
    this.pos = p + 64;
  }

  // ---- proto3 fields: each is omitted when it holds its default, with protobufjs' exact checks ----

  stringField(field: number, v: string | null | undefined): void {
    if (v != null && v !== '') {
      this.tag(field, LEN);
      this.string(v);
    }
  }

  int32Field(field: number, v: number | null | undefined): void {
    if (v != null && v !== 0) {
      this.tag(field, VARINT);
      this.int32(v);
    }
  }

  uint32Field(field: number, v: number | null | undefined): void {
    if (v != null && v !== 0) {
      this.tag(field, VARINT);
      this.uint32(v);
    }
  }

  int64Field(field: number, v: Int64 | null | undefined): void {
    if (v != null && !isZeroInt64(v)) {
      this.tag(field, VARINT);
      this.int64(v);
    }
  }

  boolField(field: number, v: boolean | null | undefined): void {
    if (v != null && v !== false) {
      this.tag(field, VARINT);
      this.bool(v);
    }
  }

  bytesField(field: number, v: Uint8Array | string | null | undefined): void {
    if (v != null && v.length) {
      this.tag(field, LEN);
      this.bytes(v);
    }
  }

  /** Repeated strings are never packed; empty elements are written. */
  stringsField(field: number, v: readonly string[] | null | undefined): void {
    if (v == null) return;
    for (let i = 0; i < v.length; i++) {
      this.tag(field, LEN);
      this.string(v[i] as string);
    }
  }

  /**
   * `stringsField` for an array that many messages of this writer share and nobody modifies while
   * it is in use (an ExecOp's env list is the state's, the same array for every step until the next
   * ENV/ARG): the first write is remembered and later writes of the same array copy its bytes. A
   * repeated field's encoding does not depend on where it is written, so the bytes are the same.
   */
  sharedStringsField(field: number, v: readonly string[] | null | undefined): void {
    // Short lists cost less to encode than to look up.
    if (v == null || v.length < 3) {
      this.stringsField(field, v);
      return;
    }
    const hit = this.stringsMemo.get(v, field);
    if (hit !== undefined) {
      this.rawRange(hit.bytes, hit.start, hit.end);
      return;
    }
    const start = this.pos;
    this.stringsField(field, v);
    this.stringsMemo.remember(v, field, this.buf, start, this.pos);
  }

  /** Appends the unknown fields a decode kept, as protobufjs does after the known ones. */
  unknowns(v: readonly Uint8Array[] | null | undefined): void {
    if (v == null) return;
    for (const u of v) this.raw(u);
  }
}
