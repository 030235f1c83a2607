/**
 * Docker's `.dockerignore` pattern semantics (moby/patternmatcher) and the build-context walk rules of
 * fsutil, which BuildKit uses to send the context. Lives in util because both the frontend (which
 * ignore file applies) and the cache/worker layers (walking and hashing the context) need it.
 */
import type { Stats } from 'node:fs';

/** How a compiled pattern is tested; a pattern without wildcards never needs a regexp. */
export type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

/**
 * What a directory's match said about each pattern, handed to its children so that a walker tests
 * each path against one pattern once instead of re-testing every parent (patternmatcher's
 * `MatchInfo`). Treat it as opaque; `EMPTY_MATCH_INFO` means "no parent information".
 */
export interface MatchInfo {
  /** One flag per pattern: did the parent (or an ancestor) match it. Empty = unknown. */
  readonly parentMatched: readonly boolean[];
}

export interface IncrementalMatch {
  readonly matched: boolean;
  /** Pass this to the children of `path` when `path` is a directory. */
  readonly info: MatchInfo;
}

/** One line of an ignore file that produced a pattern. */
export interface IgnoreEntry {
  /** The normalised pattern (`!` kept in front of exceptions). */
  readonly pattern: string;
  /** 1-based line number in the file. */
  readonly line: number;
}

export interface WalkContextOptions {
  /** `.dockerignore` patterns: matching paths are left out (last match wins, `!` re-includes). */
  readonly excludes?: readonly string[];
  /** When non-empty, only matching paths (and the parent directories of matches) are yielded. */
  readonly includes?: readonly string[];
  /**
   * Paths whose symlinks should be followed for inclusion: their link targets (recursively) are
   * added to `includes`, as BuildKit does for the sources of a COPY.
   */
  readonly followPaths?: readonly string[];
  /**
   * Called for every directory below the root whose entries the walk reads — also those it only
   * walks through (excluded, but an exception may re-include something beneath), which are not
   * yielded when nothing beneath survives — before it reads them. The daemon's context journal
   * watches exactly these directories.
   */
  readonly onDirectory?: (absPath: string, stat: Stats) => void;
  readonly signal?: AbortSignal;
}

/** One walked entry. */
export interface WalkEntry {
  /** Slash-separated path relative to the root, never `.` and never with a leading `/`. */
  readonly path: string;
  /** `lstat` of the entry: symlinks are reported, never followed. */
  readonly stat: Stats;
}
