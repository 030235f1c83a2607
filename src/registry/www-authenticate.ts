/**
 * Parses `WWW-Authenticate` headers (RFC 7235): one or more challenges, each a scheme followed by
 * `key=value` or `key="quoted value"` parameters, e.g.
 * `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`.
 */

export interface Challenge {
  /** Lower-cased scheme: `basic`, `bearer`, … */
  readonly scheme: string;
  /** Parameters with lower-cased names. */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

/** All challenges in the header value(s); malformed tails are ignored rather than fatal. */
export function parseWwwAuthenticate(headers: string | readonly string[] | undefined): Challenge[] {
  if (headers === undefined) return [];
  const list = typeof headers === 'string' ? [headers] : headers;
  return list.flatMap(parseOne);
}

function parseOne(value: string): Challenge[] {
  const out: Challenge[] = [];
  let s = value;
  let current: { scheme: string; params: Record<string, string> } | undefined;
  for (;;) {
    s = s.replace(/^[\s,]+/, '');
    const tok = TOKEN.exec(s);
    if (!tok) break;
    const word = tok[0];
    const after = s.slice(word.length);
    const eq = /^\s*=\s*/.exec(after);
    if (!eq || !current) {
      // A new challenge: its scheme; parameters follow.
      current = { scheme: word.toLowerCase(), params: {} };
      out.push(current);
      s = after;
      continue;
    }
    s = after.slice(eq[0].length);
    let val = '';
    if (s.startsWith('"')) {
      let i = 1;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        val += s[i];
        i++;
      }
      s = s.slice(i + 1);
    } else {
      val = /^[^,\s]*/.exec(s)?.[0] ?? '';
      s = s.slice(val.length);
    }
    current.params[word.toLowerCase()] = val;
  }
  return out;
}
