/** Which source path components are wildcards (fsutil's containsWildcards), and their literal text. */

/** True when `name` holds an unescaped `*`, `?` or `[`. */
export function hasWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

/** Removes pattern escapes from a component that holds no wildcards (`a\[1\]` → `a[1]`). */
export function unescapeLiteral(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const ch = name[i] as string;
    if (ch === '\\' && i + 1 < name.length) {
      out += name[i + 1];
      i++;
    } else {
      out += ch;
    }
  }
  return out;
}
