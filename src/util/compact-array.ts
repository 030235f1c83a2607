/**
 * Arrays that live through a whole conversion (AST arguments and flags, typed sources, key/value
 * pairs, op inputs) at their exact length, and allocated where V8 can pretenure them.
 *
 * An array built by `push` keeps room for ~16 more elements, and the garbage collector copies and
 * promotes that room with it. A copy made by `slice()`, `map()` or a spread is exact but is always
 * allocated in the young generation, so the scavenger copies it twice (once within the young
 * generation, once into the old) before it settles. An array *literal* has an allocation site:
 * once V8 sees that nearly everything a site allocates survives, it allocates that site's arrays
 * in the old generation directly (allocation-site pretenuring) and the scavenger never copies them.
 * So short arrays, by far the most common here, are built by literals.
 */

/** Shared empty array (arrays handed out here are read-only to their users). */
export const EMPTY: readonly never[] = Object.freeze([]);

/**
 * `xs` at its exact length (a copy; `xs` is dropped by the caller), or EMPTY when it is empty.
 * Meant for arrays that live long: every literal below is one allocation site, shared by all
 * callers, and a site whose arrays mostly die young would not be pretenured.
 */
export function compactArray<T>(xs: readonly T[]): readonly T[] {
  switch (xs.length) {
    case 0: return EMPTY;
    case 1: return [xs[0] as T];
    case 2: return [xs[0] as T, xs[1] as T];
    case 3: return [xs[0] as T, xs[1] as T, xs[2] as T];
    case 4: return [xs[0] as T, xs[1] as T, xs[2] as T, xs[3] as T];
    case 5: return [xs[0] as T, xs[1] as T, xs[2] as T, xs[3] as T, xs[4] as T];
    case 6: return [xs[0] as T, xs[1] as T, xs[2] as T, xs[3] as T, xs[4] as T, xs[5] as T];
    default: return xs.slice();
  }
}
