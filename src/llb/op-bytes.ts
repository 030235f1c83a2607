/**
 * Encodes a part of an op (its body, its metadata) once, when the builder makes the op, and keeps
 * only the bytes. An op graph of 10,000 steps used to keep every step's message objects (ExecOp,
 * Meta, mounts, copy actions, constraints and their location lists) alive until marshalling: most
 * of the objects the garbage collector had to copy and promote. As bytes, each part is a range of
 * a shared slab, and the objects die young.
 *
 * The bytes are exactly what the marshaller would have written from the objects (op-encoding.ts is
 * position-independent), so digests do not change. With TSBUILD_VERIFY_LLB_ENCODING=1 every part
 * is also encoded by protobufjs and compared, as marshalling does (see marshal.ts).
 */
import { ProtoWriter } from './proto-writer.js';

/** Slab size: parts are written into slabs this big, a new one once a slab is three quarters full. */
const SLAB = 64 * 1024;

/**
 * The writer whose buffer is the slab being filled: a part is written straight into it and handed
 * out as a range (it used to be written into a scratch writer and copied into the slab, a second
 * copy of every op's bytes). A part that does not fit makes the writer grow into a new buffer;
 * ranges of earlier parts keep the old one, whose bytes are never written again. No visible state:
 * a part's bytes depend only on what `write` writes, and a slab is only ever appended to.
 */
const slab = new ProtoWriter(SLAB);

/**
 * The writer of the slab being filled: a part is written from its current position (`pos`) on,
 * and its bytes are `buffer()[start..pos)` once written; then `endPart()`. No view, closure or span
 * object is made: a node keeps the slab and the offsets in its own fields (a typed-array object of
 * its own was ~100 bytes per op that the collector copied and promoted). The bytes are never
 * written again.
 */
export function partWriter(): ProtoWriter {
  return slab;
}

/** Ends the part just written (after its buffer and end were read): a full slab is replaced. */
export function endPart(): void {
  if (slab.pos > SLAB - SLAB / 4) slab.restart(SLAB);
}
