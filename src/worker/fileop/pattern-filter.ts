/**
 * COPY `--exclude` and include patterns, on the shared Docker patternmatcher
 * (src/util/pattern-matcher). Patterns are relative to the copied directory; one leading `/` is
 * dropped, as .dockerignore parsing does.
 */
import type { SourceLocation } from '../../util/errors.js';
import { PatternMatcher, PatternSyntaxError } from '../../util/pattern-matcher/index.js';
import { fileOpUserError } from './errors.js';
import { hasWildcards } from './wildcard-syntax.js';

/** A matcher for the patterns, or undefined when there are none. Malformed patterns are user errors. */
export function compilePatterns(patterns: readonly string[] | null | undefined, location: SourceLocation | undefined): PatternMatcher | undefined {
  const list = (patterns ?? []).map((p) => p.trim().replace(/^(!?)\/(?=.)/, '$1')).filter((p) => p !== '');
  if (list.length === 0) return undefined;
  try {
    const m = new PatternMatcher(list);
    // Some patterns compile but can never match (a reversed class range): report them now, with the location.
    for (const p of m.patterns) p.check();
    return m;
  } catch (e) {
    if (e instanceof PatternSyntaxError) {
      throw fileOpUserError('FILEOP_BAD_PATTERN', [e.pattern, e.message], { location, cause: e });
    }
    throw e;
  }
}

/**
 * Whether something below the excluded directory `dir` could be re-included by a `!` pattern, so
 * the copy must look inside it (fsutil's walker rule: a `!` pattern with wildcards, once a trailing
 * `/**` or `/*` is cut, always means "maybe"; otherwise it must lie below `dir`).
 */
export function mayReincludeBelow(m: PatternMatcher, dir: string): boolean {
  if (!m.exclusions()) return false;
  const dirSlash = dir.replace(/\/+$/, '') + '/';
  for (const pat of m.patterns) {
    if (!pat.exclusion) continue;
    let p = pat.text;
    if (p.endsWith('/**')) p = p.slice(0, -3);
    else if (p.endsWith('/*')) p = p.slice(0, -2);
    if (hasWildcards(p) || p.includes('\\')) return true;
    if ((p + '/').startsWith(dirSlash)) return true;
  }
  return false;
}
