/**
 * Small re-implementations of Go standard-library string and path functions whose exact behaviour
 * Docker's `.dockerignore` handling and BuildKit's shell lexer depend on. Node's `path.posix` is close
 * but not equal (`normalize('a/')` keeps the slash, `normalize('')` is `.` only by accident), and JS
 * `trim()` strips U+FEFF but not U+0085, so compatibility needs Go's own rules.
 */

/** Go's `unicode.IsSpace`: the Unicode White_Space property. */
export function isGoSpace(ch: string): boolean {
  switch (ch) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case '\u0085':
    case '\u00A0':
    case '\u1680':
    case '\u2028':
    case '\u2029':
    case '\u202F':
    case '\u205F':
    case '\u3000':
      return true;
    default: {
      const c = ch.codePointAt(0) ?? 0;
      return c >= 0x2000 && c <= 0x200a;
    }
  }
}

/** Go's `strings.TrimSpace`. */
export function goTrimSpace(s: string): string {
  const cps = Array.from(s);
  let start = 0;
  let end = cps.length;
  while (start < end && isGoSpace(cps[start] ?? '')) start++;
  while (end > start && isGoSpace(cps[end - 1] ?? '')) end--;
  return start === 0 && end === cps.length ? s : cps.slice(start, end).join('');
}

/** Go's `path.Clean` (= `filepath.Clean` on Unix): lexical shortest equivalent path. */
export function goClean(path: string): string {
  if (path === '') return '.';
  const rooted = path[0] === '/';
  const n = path.length;
  const out: string[] = [];
  let r = 0;
  let dotdot = 0;
  if (rooted) {
    out.push('/');
    r = 1;
    dotdot = 1;
  }
  while (r < n) {
    if (path[r] === '/') {
      r++;
    } else if (path[r] === '.' && (r + 1 === n || path[r + 1] === '/')) {
      r++;
    } else if (path[r] === '.' && path[r + 1] === '.' && (r + 2 === n || path[r + 2] === '/')) {
      r += 2;
      if (out.length > dotdot) {
        out.pop();
        while (out.length > dotdot && out[out.length - 1] !== '/') out.pop();
        // The loop above leaves the separator before the removed element; drop it too unless it
        // is the root slash (Go's lazybuf does the same by moving its write index).
        if (out.length > dotdot && out[out.length - 1] === '/') out.pop();
      } else if (!rooted) {
        if (out.length > 0) out.push('/');
        out.push('.', '.');
        dotdot = out.length;
      }
    } else {
      if ((rooted && out.length !== 1) || (!rooted && out.length !== 0)) out.push('/');
      while (r < n && path[r] !== '/') {
        out.push(path[r] ?? '');
        r++;
      }
    }
  }
  if (out.length === 0) return '.';
  return out.join('');
}

/** Go's `filepath.Dir` on Unix: everything but the last element, cleaned. */
export function goDir(path: string): string {
  let i = path.length - 1;
  while (i >= 0 && path[i] !== '/') i--;
  return goClean(path.slice(0, i + 1));
}

/** Go's string ordering (bytewise UTF-8, i.e. by code point), unlike JS's UTF-16 code-unit order. */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i) ?? 0;
    const cb = b.codePointAt(j) ?? 0;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  const restA = a.length - i;
  const restB = b.length - j;
  return restA === restB ? 0 : restA < restB ? -1 : 1;
}
