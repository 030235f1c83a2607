/**
 * Encodes a part of an op (its body, its metadata) once, when the builder makes the op, and keeps
 * only the bytes. An op graph of 10,000 steps used to keep every step's message objects (ExecOp,
 * Meta, mounts, copy actions, constraints and their location lists) alive until marshalling: most
 * of the objects the garbage collector had to copy and promote. As bytes, each part is one small
 * view into a shared slab, and the objects die young.
 *
 * The bytes are exactly what the marshaller would have written from the objects (op-encoding.ts is
 * position-independent), so digests do not change. With TSBUILD_VERIFY_LLB_ENCODING=1 every part
 * is also encoded by protobufjs and compared, as marshalling does (see marshal.ts).
 */
import { ProtoWriter } from './proto-writer.js';

/** Slab size: parts are carved out of slabs this big (a part larger than a slab gets its own). */
const SLAB = 64 * 1024;

/**
 * One writer reused for every part and one slab being filled. Neither is visible state: a part's
 * bytes depend only on what `write` writes, and a slab is only ever appended to.
 */
const scratch = new ProtoWriter(SLAB);
let slab = new Uint8Array(SLAB);
let used = 0;

/** The bytes `write` writes, as a view the caller owns (never written to again). */
export function encodePart(write: (w: ProtoWriter) => void): Uint8Array {
  scratch.pos = 0;
  write(scratch);
  const n = scratch.pos;
  if (n > SLAB / 4) {
    const own = new Uint8Array(n);
    scratch.copyTo(own, 0);
    return own;
  }
  if (used + n > SLAB) {
    slab = new Uint8Array(SLAB);
    used = 0;
  }
  scratch.copyTo(slab, used);
  const out = slab.subarray(used, used + n);
  used += n;
  return out;
}
