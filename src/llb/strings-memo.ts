/**
 * The memo behind ProtoWriter.sharedStringsField: the encoding of a repeated string field by the
 * identity of the array it was written from (an ExecOp's env list is the state's, the same array
 * for every step until the next ENV/ARG). Only the last few lists are kept: a step asks for the
 * list of the step before it or, at the start of a stage built on another, for a list of a recent
 * stage. A WeakMap of every list ever encoded cost ~0.8 µs per ENV/ARG to add to (1,000 of them
 * in the 10,000-instruction bench, none ever found there) and kept growing until the next full
 * GC. A list that has dropped out is encoded again, to the same bytes.
 */

/** How many recent lists are remembered. */
const RECENT = 8;

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
  /** The recent lists and their encodings, side by side; `next` is the slot to fill next. */
  private readonly lists: (readonly string[] | undefined)[] = new Array<readonly string[] | undefined>(RECENT).fill(undefined);
  private readonly encodings: (StringsEncoding | undefined)[] = new Array<StringsEncoding | undefined>(RECENT).fill(undefined);
  private next = 0;
  /** The list asked for last and its entry: every step until the next ENV/ARG asks for it again. */
  private last: readonly string[] | undefined;
  private lastEncoding: StringsEncoding | undefined;
  private slab: Uint8Array | undefined;
  private slabPos = 0;

  /** The encoding of `list` as field `field`, if remembered. */
  get(list: readonly string[], field: number): StringsEncoding | undefined {
    let hit = this.last === list ? this.lastEncoding : undefined;
    if (hit === undefined) {
      const i = this.lists.indexOf(list);
      if (i >= 0) hit = this.encodings[i];
    }
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
    // A list asked for again under another field replaces its own slot; otherwise the oldest goes.
    let slot = this.lists.indexOf(list);
    if (slot < 0) {
      slot = this.next;
      this.next = (slot + 1) % RECENT;
    }
    this.lists[slot] = list;
    this.encodings[slot] = encoding;
    this.last = list;
    this.lastEncoding = encoding;
  }
}
