/**
 * The memo behind ProtoWriter.sharedStringsField: the encoding of a repeated string field by the
 * identity of the array it was written from (an ExecOp's env list is the state's, the same array
 * for every step until the next ENV/ARG). Weak, because one writer encodes the op parts of every
 * build in the process (op-bytes.ts).
 */

/** Size of the slabs the memos' bytes are kept in. */
const MEMO_SLAB = 16 * 1024;

/** The encoding of a repeated string field, `bytes[start..end)`. */
export interface StringsEncoding {
  readonly field: number;
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly end: number;
}

export class StringsMemo {
  private readonly byList = new WeakMap<readonly string[], StringsEncoding>();
  /** The list asked for last and its entry: every step until the next ENV/ARG asks for it again, no lookup. */
  private last: readonly string[] | undefined;
  private lastEncoding: StringsEncoding | undefined;
  private slab: Uint8Array | undefined;
  private slabPos = 0;

  /** The encoding of `list` as field `field`, if remembered. */
  get(list: readonly string[], field: number): StringsEncoding | undefined {
    const hit = this.last === list ? this.lastEncoding : this.byList.get(list);
    if (hit === undefined || hit.field !== field) return undefined;
    this.last = list;
    this.lastEncoding = hit;
    return hit;
  }

  /**
   * Remembers `src[start..end)` as the encoding of `list`: copied into a slab of memos (a typed
   * array of its own per memo allocated its backing store outside the heap, ~1 µs each). Slabs
   * are only appended to; a full one is left to the memos that point into it.
   */
  remember(list: readonly string[], field: number, src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (this.slab === undefined || this.slabPos + n > this.slab.length) {
      this.slab = new Uint8Array(Math.max(MEMO_SLAB, n));
      this.slabPos = 0;
    }
    const at = this.slabPos;
    this.slab.set(new Uint8Array(src.buffer, src.byteOffset + start, n), at);
    this.slabPos = at + n;
    const encoding = { field, bytes: this.slab, start: at, end: at + n };
    this.byList.set(list, encoding);
    this.last = list;
    this.lastEncoding = encoding;
  }
}
