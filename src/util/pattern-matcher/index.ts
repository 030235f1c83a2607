/** Docker `.dockerignore` patterns, ignore-file reading and the build-context walker. */
export { ContextFilter } from './context-filter.js';
export type { ContextFilterOptions } from './context-filter.js';
export { ContextWalkError, PatternSyntaxError } from './errors.js';
export { followLinks } from './follow-links.js';
export { BadGlobError, checkGlobSyntax, globMatch } from './glob-match.js';
export { readIgnoreFile, readIgnoreFileEntries } from './ignore-file.js';
export { compilePattern, Pattern } from './pattern.js';
export type { CompileOptions, CompiledPattern } from './pattern.js';
export { EMPTY_MATCH_INFO, matches, PatternMatcher } from './pattern-matcher.js';
export type { IgnoreEntry, IncrementalMatch, MatchInfo, MatchType, WalkContextOptions, WalkEntry } from './types.js';
export { walkContext } from './walk-context.js';
