/**
 * An ordered list of `.dockerignore` patterns (moby/patternmatcher semantics). Patterns apply in
 * order; an ordinary pattern is tried only while the path is not yet matched and a `!` exception only
 * while it is, so the last applicable pattern wins. A pattern that matches a parent directory matches
 * everything below it (`docs` excludes `docs/README.md`).
 */
import { TsbuildError } from '../errors.js';
import { PatternSyntaxError } from './errors.js';
import { BadGlobError, checkGlobSyntax } from './glob-match.js';
import { goClean, goDir, goTrimSpace } from './go-compat.js';
import { Pattern } from './pattern.js';
import type { IncrementalMatch, MatchInfo } from './types.js';

/** "No information about the parent directory": the path's own parents are checked instead. */
export const EMPTY_MATCH_INFO: MatchInfo = Object.freeze({ parentMatched: Object.freeze([]) as readonly boolean[] });

export class PatternMatcher {
  readonly patterns: readonly Pattern[];
  private readonly hasExclusions: boolean;

  /**
   * Compiles the patterns: each is trimmed (empty ones dropped) and cleaned; a leading `!` marks an
   * exception. Throws PatternSyntaxError for `!` alone and for malformed globs such as `[`.
   */
  constructor(patterns: readonly string[]) {
    const out: Pattern[] = [];
    let exclusions = false;
    for (const raw of patterns) {
      let p = goTrimSpace(raw);
      if (p === '') continue;
      p = goClean(p);
      let exclusion = false;
      if (p[0] === '!') {
        if (p.length === 1) throw new PatternSyntaxError(raw, 'illegal exclusion pattern: "!"');
        exclusion = true;
        exclusions = true;
        p = p.slice(1);
      }
      try {
        checkGlobSyntax(p);
      } catch (e) {
        if (!(e instanceof BadGlobError)) throw e;
        throw new PatternSyntaxError(raw, `syntax error in pattern ${JSON.stringify(raw)}`, { cause: e });
      }
      out.push(new Pattern(p, exclusion));
    }
    this.patterns = out;
    this.hasExclusions = exclusions;
  }

  /** True when any pattern is a `!` exception. */
  exclusions(): boolean {
    return this.hasExclusions;
  }

  /**
   * Does `file` (slash-separated, relative) match, counting a match of any parent directory as a
   * match of the file? This is the `.dockerignore` rule; use it for one-off questions.
   */
  matchesOrParentMatches(file: string): boolean {
    const parentPath = goDir(file);
    const parentDirs = parentPath.split('/');
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      let match = pattern.match(file);
      if (!match && parentPath !== '.') {
        for (let i = 0; i < parentDirs.length && !match; i++) {
          match = pattern.match(parentDirs.slice(0, i + 1).join('/'));
        }
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * patternmatcher's deprecated `Matches`: a pattern is tried against the path and against the one
   * parent prefix as deep as the pattern itself (so `a*` matches `ab/c` but `docs` does not match
   * `docs/a/b`). Kept for compatibility tests; prefer `matchesOrParentMatches`.
   */
  matches(file: string): boolean {
    const parentPath = goDir(file);
    const parentDirs = parentPath.split('/');
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      let match = pattern.match(file);
      if (!match && parentPath !== '.' && pattern.dirs.length <= parentDirs.length) {
        match = pattern.match(parentDirs.slice(0, pattern.dirs.length).join('/'));
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * patternmatcher's deprecated `MatchesUsingParentResult`: for walkers that visit parents first and
   * pass down only whether the parent was matched. Wrong for some exception patterns; prefer
   * `matchesUsingParentResults`.
   */
  matchesUsingParentResult(file: string, parentMatched: boolean): boolean {
    let matched = parentMatched;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      if (pattern.match(file)) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * Incremental matching for walkers: `parent` is the `info` returned for the parent directory (or
   * EMPTY_MATCH_INFO, in which case the path's parents are checked as in `matchesOrParentMatches`).
   * A pattern that matched the parent is not re-tested.
   */
  matchesUsingParentResults(file: string, parent: MatchInfo = EMPTY_MATCH_INFO): IncrementalMatch {
    const parentMatched = parent.parentMatched;
    if (parentMatched.length !== 0 && parentMatched.length !== this.patterns.length) {
      throw new TsbuildError('PATTERN_MATCH_INFO', 'wrong number of values in parentMatched');
    }
    const info: boolean[] = new Array<boolean>(this.patterns.length).fill(false);
    let matched = false;
    this.patterns.forEach((pattern, i) => {
      let match = parentMatched.length !== 0 && parentMatched[i] === true;
      if (!match) {
        if (pattern.exclusion !== matched) return;
        match = pattern.match(file);
        if (!match && parentMatched.length === 0) {
          const parentPath = goDir(file);
          if (parentPath !== '.') {
            const dirs = parentPath.split('/');
            for (let j = 0; j < dirs.length && !match; j++) match = pattern.match(dirs.slice(0, j + 1).join('/'));
          }
        }
      }
      info[i] = match;
      if (match) matched = !pattern.exclusion;
    });
    return { matched, info: { parentMatched: info } };
  }
}

/**
 * patternmatcher's package-level `Matches(file, patterns)`: compiles the patterns, cleans the path,
 * never matches `.`, then applies the legacy depth-limited `matches`.
 */
export function matches(file: string, patterns: readonly string[]): boolean {
  const pm = new PatternMatcher(patterns);
  const cleaned = goClean(file);
  if (cleaned === '.') return false;
  return pm.matches(cleaned);
}
