/**
 * Names in byte order, the order in which a layer tar lists a directory's entries; the copier
 * (copy-tree.ts) starts a directory's entries in that order, and wildcard matches (wildcard.ts) come in it.
 */

/** A surrogate (half of a character beyond U+FFFF), where UTF-16 order and byte order differ. */
const SURROGATE = /[\uD800-\uDFFF]/;

/** Names in byte order (what the on-disk order of a layer tar would be), each encoded once. */
export function sortNames(names: string[]): string[] {
  // Without surrogates, UTF-16 code unit order is code point order, which is UTF-8 byte order.
  if (!names.some((n) => SURROGATE.test(n))) return names.sort();
  const keyed = names.map((n) => ({ n, b: Buffer.from(n) }));
  keyed.sort((x, y) => Buffer.compare(x.b, y.b));
  return keyed.map((k) => k.n);
}
