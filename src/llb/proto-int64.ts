/**
 * int64 field values as protobufjs handles them: a number, or a Long-like object when one was
 * decoded with `long` loaded. Its zero check decides whether a proto3 int64 field is written, and
 * its split into two 32-bit halves (LongBits.fromNumber) gives the varint's bytes, so both are
 * reproduced exactly: digests depend on them.
 */

/** An int64 field value: a number, or a Long-like object if one was decoded with `long` loaded. */
export type Int64 = number | { readonly low: number; readonly high: number };

/** True when protobufjs would omit the int64 field (its proto3 default check). */
export function isZeroInt64(v: Int64): boolean {
  return typeof v === 'object' ? !(v.low || v.high) : v === 0;
}

/** Low and high 32 bits of an int64 as protobufjs' LongBits.fromNumber computes them. */
export function int64Bits(value: number): [lo: number, hi: number] {
  if (value === 0) return [0, 0];
  const sign = value < 0;
  const abs = sign ? -value : value;
  let lo = abs >>> 0;
  let hi = ((abs - lo) / 4294967296) >>> 0;
  if (sign) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
    if (++lo > 4294967295) {
      lo = 0;
      if (++hi > 4294967295) hi = 0;
    }
  }
  return [lo, hi];
}
