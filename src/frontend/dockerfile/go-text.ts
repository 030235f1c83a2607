/**
 * Go's string semantics where BuildKit's parser depends on them: `unicode.IsSpace` (which differs
 * from JavaScript's `\s`: it includes U+0085 and excludes U+FEFF), `strings.TrimSpace`,
 * `strings.ToLower` (simple case mapping) and `strconv.Quote` (the AST dump format). Strings here
 * are decoded with utf8-lossless, so a lone U+DC80..U+DCFF stands for an invalid byte.
 */
import { isEscapedByte } from '../../util/utf8-lossless.js';

// Module constants: a regular expression literal is a new object each time it is evaluated.
/** Text Go's %q writes between quotes as it is. */
const PLAIN_QUOTABLE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const NON_ASCII = /[^\x00-\x7f]/;

/** The characters of Go's `unicode.IsSpace`, as the body of a RegExp character class. */
export const GO_SPACE_CLASS = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** Go's `unicode.IsSpace` for one UTF-16 code unit (every Go space is in the BMP). */
export function isGoSpace(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** BuildKit's `reWhitespace` (`[\t\v\f\r ]+`): the separator of whitespace-delimited arguments. */
export function isAsciiSeparator(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d;
}

/** Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`. */
export function goTrimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length && isGoSpace(s.charCodeAt(i))) i++;
  return i === 0 ? s : s.slice(i);
}

/** Go's `strings.TrimSpace`. */
export function goTrimSpace(s: string): string {
  let i = 0;
  let j = s.length;
  while (i < j && isGoSpace(s.charCodeAt(i))) i++;
  while (j > i && isGoSpace(s.charCodeAt(j - 1))) j--;
  return i === 0 && j === s.length ? s : s.slice(i, j);
}

/** Splits on runs of `[\t\v\f\r ]`, like Go's `reWhitespace.Split(s, -1)` on a trimmed string. */
export function splitAsciiWhitespace(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  while (i < s.length) {
    if (isAsciiSeparator(s.charCodeAt(i))) {
      out.push(s.slice(start, i));
      while (i < s.length && isAsciiSeparator(s.charCodeAt(i))) i++;
      start = i;
    } else {
      i++;
    }
  }
  out.push(s.slice(start));
  return out;
}

/**
 * Go's `strings.ToLower`: per-rune simple case mapping. JavaScript's toLowerCase applies the full
 * mapping (U+0130 → "i̇") and the final-sigma rule; Go does neither. Invalid bytes become U+FFFD.
 */
export function goToLower(s: string): string {
  // Fast path: pure ASCII.
  if (!NON_ASCII.test(s)) return s.toLowerCase();
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (isEscapedByte(cp)) out += '\ufffd';
    else if (cp === 0x130) out += 'i';
    else out += ch.toLowerCase();
  }
  return out;
}

const HEX = '0123456789abcdef';
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function hex(n: number, width: number): string {
  let s = '';
  for (let shift = (width - 1) * 4; shift >= 0; shift -= 4) s += HEX[(n >> shift) & 0xf];
  return s;
}

/** Go's `strconv.Quote`: the quoting of every argument in the AST dump. */
export function goQuote(s: string): string {
  // Fast path: printable ASCII without quote or backslash.
  if (PLAIN_QUOTABLE.test(s)) return `"${s}"`;
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp === 0x22) out += '\\"';
    else if (cp === 0x5c) out += '\\\\';
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (isEscapedByte(cp)) out += `\\x${hex(cp - 0xdc00, 2)}`;
    else if (cp > 0x7f && PRINTABLE.test(ch)) out += ch;
    else if (cp === 0x07) out += '\\a';
    else if (cp === 0x08) out += '\\b';
    else if (cp === 0x0c) out += '\\f';
    else if (cp === 0x0a) out += '\\n';
    else if (cp === 0x0d) out += '\\r';
    else if (cp === 0x09) out += '\\t';
    else if (cp === 0x0b) out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd'; // not a valid rune in Go
    else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return `${out}"`;
}

/** Go's `strconv.QuoteRune` of a code point (`%q` of an int): `'A'`, `'\x03'`, `'\n'`. */
export function goQuoteRune(cp: number): string {
  if (cp === 0x27) return "'\\''";
  const inner = goQuote(String.fromCodePoint(cp)).slice(1, -1);
  return `'${inner === '\\"' ? '"' : inner}'`;
}

/**
 * The character at UTF-16 index `p` of `s`, as Go's scanner reads one rune: a surrogate pair whole,
 * any other unit (a lone surrogate too) alone; `undefined` at the end.
 */
export function runeAt(s: string, p: number): string | undefined {
  if (p >= s.length) return undefined;
  const c = s.charCodeAt(p);
  if (c >= 0xd800 && c <= 0xdbff && p + 1 < s.length) {
    const d = s.charCodeAt(p + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return s.slice(p, p + 2);
  }
  return s[p];
}

/** Number of code points in `s` (columns are counted in code points). */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
