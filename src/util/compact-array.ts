/**
 * Arrays that live through a whole conversion (AST arguments and flags, typed sources, key/value
 * pairs) without their spare capacity. An array built by `push` keeps room for ~16 more elements,
 * and the garbage collector copies and promotes that room with it: for a 10,000-instruction
 * Dockerfile, about a megabyte of empty slots per conversion.
 */

/** Shared empty array (arrays handed out here are read-only to their users). */
export const EMPTY: readonly never[] = Object.freeze([]);

/** `xs` at its exact length (a copy; `xs` is dropped by the caller), or EMPTY when it is empty. */
export function compactArray<T>(xs: readonly T[]): readonly T[] {
  return xs.length === 0 ? EMPTY : xs.slice();
}
