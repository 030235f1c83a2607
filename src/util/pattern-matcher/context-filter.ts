/**
 * One-off questions about a single context path ("is `foo/bar/x` part of the context?"), answered with
 * the same rules the walker applies: it must match the include patterns (when there are any) and must
 * not match the excludes, a match of any parent directory counting as a match. For opening one file
 * without walking (fsutil's filtered `Open`).
 */
import { PatternMatcher } from './pattern-matcher.js';

export interface ContextFilterOptions {
  readonly excludes?: readonly string[];
  readonly includes?: readonly string[];
}

export class ContextFilter {
  private readonly include: PatternMatcher | undefined;
  private readonly exclude: PatternMatcher | undefined;

  /** Throws PatternSyntaxError for bad patterns. */
  constructor(opts: ContextFilterOptions) {
    this.include = opts.includes && opts.includes.length > 0 ? new PatternMatcher(opts.includes) : undefined;
    this.exclude = opts.excludes && opts.excludes.length > 0 ? new PatternMatcher(opts.excludes) : undefined;
  }

  /** Whether the slash-separated relative `path` survives the filters. */
  allows(path: string): boolean {
    if (this.include && !this.include.matchesOrParentMatches(path)) return false;
    if (this.exclude?.matchesOrParentMatches(path)) return false;
    return true;
  }
}
