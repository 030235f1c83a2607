/**
 * Shell-word processing as Docker applies it to Dockerfile arguments (BuildKit's shell lexer):
 * variable expansion with the POSIX modifiers BuildKit supports, quotes and escapes, word splitting.
 */

export interface ShellLexOptions {
  /** The Dockerfile's escape token. */
  readonly escapeToken: '\\' | '`';
  /** Keep quote characters in the output (used for heredoc detection). Default false. */
  readonly rawQuotes?: boolean;
  /** Keep escape tokens in the output. Default false. */
  readonly rawEscapes?: boolean;
  /** Leave `$VAR` as written when VAR is unset instead of expanding to "". Default false. */
  readonly skipUnsetEnv?: boolean;
  /** Do not process quotes at all. Default false. */
  readonly skipProcessQuotes?: boolean;
}

/** Looks a variable up; undefined = unset (distinct from set-to-empty). */
export type EnvLookup = (name: string) => string | undefined;

export interface ProcessResult {
  readonly result: string;
  /** Variable names that were referenced and found. */
  readonly matched: ReadonlySet<string>;
  /** Variable names that were referenced but unset. */
  readonly unmatched: ReadonlySet<string>;
}

export interface ShellLexer {
  /** Expands one word; no word splitting. Throws ShellExpansionError on bad syntax or `${X?msg}`. */
  processWord(word: string, env: EnvLookup): string;
  /** Expands and splits into words (quotes group, unquoted whitespace separates). */
  processWords(word: string, env: EnvLookup): string[];
  processWordWithMatches(word: string, env: EnvLookup): ProcessResult;
}
