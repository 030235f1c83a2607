/**
 * One compiled `.dockerignore` pattern, with Docker's conversion of globs to regular expressions:
 * `*` and `?` stop at the separator, `**` spans directories, characters that are special in regexps
 * but not in globs are literal, and patterns without wildcards are compared as strings.
 */
import { PatternSyntaxError } from './errors.js';
import { compileGoRegexp, GoRegexpError } from './go-regexp.js';
import { assertNever } from '../errors.js';
import type { MatchType } from './types.js';

export interface CompileOptions {
  /** Path separator the pattern is compiled for. Default `/`; `\` reproduces Windows behaviour. */
  readonly separator?: '/' | '\\';
}

export interface CompiledPattern {
  readonly matchType: MatchType;
  /** The Go regexp source Docker builds (only for `regexp`), e.g. `^[^/]*\.txt$`. */
  readonly regexpSource: string | undefined;
}

/** Regexp metacharacters that are plain characters in a glob. */
const REGEXP_ONLY = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

/** Converts a cleaned pattern (no leading `!`) the way patternmatcher's `compile` does. */
export function compilePattern(pattern: string, opts: CompileOptions = {}): CompiledPattern {
  const sl = opts.separator ?? '/';
  const escSL = sl === '\\' ? '\\\\' : sl;
  const chars = Array.from(pattern);
  // Go's text/scanner silently skips a byte-order mark at the very start.
  let pos = chars[0] === '\uFEFF' ? 1 : 0;
  const peek = (): string | undefined => chars[pos];
  let re = '^';
  let matchType: MatchType = 'exact';
  for (let i = 0; pos < chars.length; i++) {
    const ch = chars[pos++] ?? '';
    if (ch === '*') {
      if (peek() === '*') {
        pos++;
        // `**/` is treated as `**`.
        if (peek() === sl) pos++;
        if (peek() === undefined) {
          // A trailing `**` accepts everything below, like .gitignore.
          if (matchType === 'exact') {
            matchType = 'prefix';
          } else {
            re += '.*';
            matchType = 'regexp';
          }
        } else {
          // Any number of directories, including none.
          re += `(.*${escSL})?`;
          matchType = 'regexp';
        }
        if (i === 0) matchType = 'suffix';
      } else {
        re += `[^${escSL}]*`;
        matchType = 'regexp';
      }
    } else if (ch === '?') {
      re += `[^${escSL}]`;
      matchType = 'regexp';
    } else if (REGEXP_ONLY.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      if (sl === '\\') {
        // On Windows a backslash is the separator, never an escape.
        re += escSL;
        continue;
      }
      const next = peek();
      if (next !== undefined) {
        re += `\\${next}`;
        pos++;
        matchType = 'regexp';
      } else {
        re += '\\';
      }
    } else if (ch === '[' || ch === ']') {
      re += ch;
      matchType = 'regexp';
    } else {
      re += ch;
    }
  }
  return { matchType, regexpSource: matchType === 'regexp' ? `${re}$` : undefined };
}

type Matcher = (path: string) => boolean;

/** A pattern as the matcher holds it: cleaned, `!` split off, compiled on first use. */
export class Pattern {
  /** True for `!` exceptions (re-include what earlier patterns excluded). */
  readonly exclusion: boolean;
  /** The cleaned pattern without its `!`. */
  readonly text: string;
  /** `text` split on `/`, for the depth-limited parent check of the legacy `matches`. */
  readonly dirs: readonly string[];
  private matcher: Matcher | PatternSyntaxError | undefined;

  constructor(text: string, exclusion: boolean) {
    this.text = text;
    this.exclusion = exclusion;
    this.dirs = text.split('/');
  }

  toString(): string {
    return this.text;
  }

  /**
   * Tests one slash-separated path. Throws PatternSyntaxError when the pattern's regexp is invalid
   * (for example `[Local-Only]`, whose class range `l-O` is reversed) — on every call, as Docker does.
   */
  match(path: string): boolean {
    this.check();
    return (this.matcher as Matcher)(path);
  }

  /** Compiles now and throws PatternSyntaxError if the pattern can never match (see `match`). */
  check(): void {
    this.matcher ??= this.build();
    if (this.matcher instanceof PatternSyntaxError) throw this.matcher;
  }

  private build(): Matcher | PatternSyntaxError {
    const { matchType, regexpSource } = compilePattern(this.text);
    const text = this.text;
    switch (matchType) {
      case 'exact':
        return (path) => path === text;
      case 'prefix': {
        const prefix = text.slice(0, -2);
        return (path) => path.startsWith(prefix);
      }
      case 'suffix': {
        const suffix = text.slice(2);
        // `**/foo` also matches `foo` itself.
        return (path) => path.endsWith(suffix) || (suffix[0] === '/' && path === suffix.slice(1));
      }
      case 'regexp': {
        try {
          const re = compileGoRegexp(regexpSource ?? '');
          return (path) => re.test(path);
        } catch (e) {
          if (!(e instanceof GoRegexpError)) throw e;
          return new PatternSyntaxError(text, `syntax error in pattern ${JSON.stringify(text)}: ${e.message}`, {
            cause: e,
          });
        }
      }
      default:
        return assertNever(matchType, 'match type');
    }
  }
}
