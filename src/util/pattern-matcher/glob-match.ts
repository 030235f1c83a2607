/**
 * Go's `filepath.Match` on Unix (separator `/`, backslash escapes). Docker runs it only to reject
 * malformed patterns (`patternmatcher.New` calls `Match(pattern, ".")`) and fsutil uses it to expand
 * wildcards in follow-paths; the actual `.dockerignore` matching goes through regular expressions
 * (pattern.ts). Its error rules are quirky (`[]a]` and `[x-]` are errors, `[z-a]` is not), which is why
 * this is a faithful port of the algorithm rather than a regexp.
 */

/** Thrown for a malformed glob; Go's `filepath.ErrBadPattern`. */
export class BadGlobError extends Error {
  constructor() {
    super('syntax error in pattern');
    this.name = 'BadGlobError';
  }
}

/** Reports whether `name` matches the shell pattern; throws BadGlobError when the pattern is malformed. */
export function globMatch(pattern: string, name: string): boolean {
  let pat = Array.from(pattern);
  let s = Array.from(name);
  patternLoop: while (pat.length > 0) {
    const chunk = scanChunk(pat);
    pat = chunk.rest;
    if (chunk.star && chunk.chunk.length === 0) {
      // A trailing star matches the rest of the name unless it crosses a separator.
      return !s.includes('/');
    }
    const first = matchChunk(chunk.chunk, s);
    if (first.ok && (first.rest.length === 0 || pat.length > 0)) {
      s = first.rest;
      continue;
    }
    if (chunk.star) {
      for (let i = 0; i < s.length && s[i] !== '/'; i++) {
        const m = matchChunk(chunk.chunk, s.slice(i + 1));
        if (m.ok) {
          if (pat.length === 0 && m.rest.length > 0) continue;
          s = m.rest;
          continue patternLoop;
        }
      }
    }
    // No match: the rest of the pattern must still be well-formed.
    while (pat.length > 0) {
      const c = scanChunk(pat);
      pat = c.rest;
      matchChunk(c.chunk, []);
    }
    return false;
  }
  return s.length === 0;
}

/** Throws BadGlobError when `pattern` is malformed (what `filepath.Match(pattern, ".")` reports). */
export function checkGlobSyntax(pattern: string): void {
  globMatch(pattern, '.');
}

interface Chunk {
  readonly star: boolean;
  readonly chunk: string[];
  readonly rest: string[];
}

function scanChunk(pattern: string[]): Chunk {
  let p = pattern;
  let star = false;
  while (p.length > 0 && p[0] === '*') {
    p = p.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < p.length; i++) {
    switch (p[i]) {
      case '\\':
        // The error for a trailing backslash is reported by matchChunk.
        if (i + 1 < p.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
        break;
      default:
        break;
    }
  }
  return { star, chunk: p.slice(0, i), rest: p.slice(i) };
}

interface ChunkResult {
  readonly rest: string[];
  readonly ok: boolean;
}

/**
 * Matches one star-free chunk at the start of `s`. After the first mismatch it keeps walking the
 * chunk, without reading `s`, so that syntax errors anywhere in the chunk are still reported.
 */
function matchChunk(chunkIn: string[], sIn: string[]): ChunkResult {
  let chunk = chunkIn;
  let s = sIn;
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const c = chunk[0];
    if (c === '[') {
      let r = -1;
      if (!failed) {
        r = s[0]?.codePointAt(0) ?? -1;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk.length > 0 && chunk[0] === '^') {
        negated = true;
        chunk = chunk.slice(1);
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === ']' && nrange > 0) {
          chunk = chunk.slice(1);
          break;
        }
        const lo = getEsc(chunk);
        chunk = lo.rest;
        let hi = lo.r;
        if (chunk[0] === '-') {
          const h = getEsc(chunk.slice(1));
          chunk = h.rest;
          hi = h.r;
        }
        if (lo.r <= r && r <= hi) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (c === '?') {
      if (!failed) {
        if (s[0] === '/') failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    } else {
      if (c === '\\') {
        chunk = chunk.slice(1);
        if (chunk.length === 0) throw new BadGlobError();
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    }
  }
  if (failed) return { rest: [], ok: false };
  return { rest: s, ok: true };
}

function getEsc(chunkIn: string[]): { r: number; rest: string[] } {
  let chunk = chunkIn;
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') throw new BadGlobError();
  if (chunk[0] === '\\') {
    chunk = chunk.slice(1);
    if (chunk.length === 0) throw new BadGlobError();
  }
  const r = chunk[0]?.codePointAt(0) ?? -1;
  const rest = chunk.slice(1);
  if (rest.length === 0) throw new BadGlobError();
  return { r, rest };
}
