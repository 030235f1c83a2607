/**
 * Shell patterns as BuildKit's `${v#p}`, `${v%p}` and `${v/p/r}` use them: `*` (shortest, or longest
 * when greedy) and `?` are wildcards, `\*`, `\?` and `\\` are literal, and everything else — brackets
 * included — is a literal character. (POSIX bracket expressions are deliberately not supported by
 * BuildKit; `[a]` matches the three characters `[a]`.) Matching goes through a regexp built the way
 * BuildKit builds it.
 */
import { compileGoRegexp, GoRegexpError } from '../../../util/pattern-matcher/go-regexp.js';

/** A shell pattern that cannot be converted; message as BuildKit's. */
export class ShellPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellPatternError';
  }
}

export interface ShellPatternOptions {
  /** `*` takes the longest run instead of the shortest. */
  readonly greedy: boolean;
  /** Match only at the start of the string. */
  readonly anchored: boolean;
}

const REGEXP_SPECIAL = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

/** The Go regexp source BuildKit builds for a shell pattern (`*` → `.*`/`.*?`, `?` → `.`). */
export function shellPatternToRegexpSource(pattern: string, opts: ShellPatternOptions): string {
  const runes = Array.from(pattern);
  // Go's text/scanner skips a leading byte-order mark.
  let i = runes[0] === '\uFEFF' ? 1 : 0;
  let out = opts.anchored ? '^' : '';
  const star = opts.greedy ? '.*' : '.*?';
  while (i < runes.length) {
    const tok = runes[i++] ?? '';
    if (tok === '*') {
      out += star;
    } else if (tok === '?') {
      out += '.';
    } else if (tok === '\\') {
      // `\}` and `\/` are needed to write those characters inside ${}; the escape is not part of the pattern.
      const next = runes[i];
      if (next === '}' || next === '/') continue;
      i++;
      if (next !== '*' && next !== '?' && next !== '\\') {
        throw new ShellPatternError(next === undefined ? "invalid escape '\\' at end of pattern" : `invalid escape '\\${next}'`);
      }
      out += `\\${next}`;
    } else if (REGEXP_SPECIAL.has(tok)) {
      out += `\\${tok}`;
    } else {
      out += tok;
    }
  }
  return out;
}

/** Compiles a shell pattern; `flags` may add `g`. Throws ShellPatternError. */
export function compileShellPattern(pattern: string, opts: ShellPatternOptions & { readonly flags?: string }): RegExp {
  const source = shellPatternToRegexpSource(pattern, opts);
  try {
    return compileGoRegexp(source, opts.flags === undefined ? {} : { flags: opts.flags });
  } catch (e) {
    if (e instanceof GoRegexpError) throw new ShellPatternError(e.message);
    throw e;
  }
}

/**
 * Reverses a pattern for suffix matching while keeping each escape in front of the character it
 * escapes (`a\*c` → `c\*a`).
 */
export function reversePattern(pattern: string): string {
  const runes = Array.from(pattern);
  const out = new Array<string>(runes.length);
  const last = runes.length - 1;
  let i = 0;
  while (i <= last) {
    const tok = runes[i] ?? '';
    const outIdx = last - i;
    if (tok === '\\' && i !== last) {
      out[outIdx - 1] = tok;
      out[outIdx] = runes[i + 1] ?? '';
      i += 2;
    } else {
      out[outIdx] = tok;
      i++;
    }
  }
  return out.join('');
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join('');
}

/** `${value#pattern}` (shortest) / `${value##pattern}` (greedy). */
export function trimPrefix(pattern: string, value: string, opts: { greedy: boolean }): string {
  const m = compileShellPattern(pattern, { greedy: opts.greedy, anchored: true }).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/**
 * `${value%pattern}` / `${value%%pattern}`. Regexps find leftmost matches, not shortest rightmost
 * ones, so both the value and the pattern are reversed and the prefix is trimmed instead.
 */
export function trimSuffix(pattern: string, value: string, opts: { greedy: boolean }): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), opts));
}

/** `${value/pattern/replacement}`: the first (greedy) match replaced, the replacement taken literally. */
export function replaceFirst(pattern: string, value: string, replacement: string): string {
  const m = compileShellPattern(pattern, { greedy: true, anchored: false }).exec(value);
  return m ? value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length) : value;
}

/**
 * `${value//pattern/replacement}` with Go's `Regexp.ReplaceAllString` rules: an empty match right
 * after a previous match is not replaced again, and `$` in the replacement is a template (`$0`/`${0}`
 * the match, `$$` a dollar, other names empty) — BuildKit passes the replacement through unchanged.
 */
export function replaceAll(pattern: string, value: string, replacement: string): string {
  const re = compileShellPattern(pattern, { greedy: true, anchored: false, flags: 'g' });
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= value.length) {
    re.lastIndex = searchPos;
    const m = re.exec(value);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += value.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expandTemplate(replacement, m[0]);
    lastMatchEnd = end;
    // Always advance at least one code point.
    const cp = value.codePointAt(searchPos);
    const width = cp === undefined ? 0 : cp > 0xffff ? 2 : 1;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + value.slice(lastMatchEnd);
}

function isNameChar(ch: string): boolean {
  return /^[\p{L}\p{Nd}_]$/u.test(ch);
}

/** Go's `Regexp.Expand` for a regexp without capture groups. */
function expandTemplate(template: string, whole: string): string {
  let out = '';
  let rest = template;
  for (;;) {
    const i = rest.indexOf('$');
    if (i < 0) break;
    out += rest.slice(0, i);
    rest = rest.slice(i + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = extractReference(rest);
    if (ref === undefined) {
      out += '$';
      continue;
    }
    rest = ref.rest;
    if (ref.name === '0') out += whole;
  }
  return out + rest;
}

function extractReference(s: string): { name: string; rest: string } | undefined {
  const chars = Array.from(s);
  let i = 0;
  const brace = chars[0] === '{';
  if (brace) i++;
  const start = i;
  while (i < chars.length && isNameChar(chars[i] ?? '')) i++;
  if (i === start) return undefined;
  const name = chars.slice(start, i).join('');
  if (brace) {
    if (chars[i] !== '}') return undefined;
    i++;
  }
  return { name, rest: chars.slice(i).join('') };
}
