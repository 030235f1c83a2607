/**
 * Shell-word expansion for the conversion, with errors located at the instruction. Which parts of
 * which instructions are expanded follows the shell engineer's table (shell/expansion-rules.ts,
 * docs/shell-expansion.md); the dispatchers call `word`/`words`/`heredoc` exactly there.
 */
import { ShellLex } from '../shell/lex.js';
import { ShellExpansionError } from '../shell/errors.js';
import type { EnvLookup } from '../shell/types.js';
import type { ErrorSite } from '../instructions/diagnostics.js';
import { isGoSpace } from '../go-text.js';

function hasGoSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (isGoSpace(s.charCodeAt(i))) return true;
  return false;
}

export class Expander {
  /** Characters the lexer acts on; a word without any of them expands to itself. */
  private readonly special: RegExp;
  /**
   * The same for display: quotes are kept as written there (rawQuotes), so only `$` and the escape
   * token change a text (exec-form RUN lines, all quotes, skip the lexer).
   */
  private readonly displaySpecial: RegExp;
  private readonly main: ShellLex;
  /** For progress names: quotes kept, unset variables left as written (BuildKit's processCmdEnv). */
  private readonly display: ShellLex;
  /** For COPY/ADD heredoc bodies: `$` and backslash escapes only, quotes kept. */
  private readonly raw: ShellLex;

  constructor(escapeToken: '\\' | '`') {
    this.special = escapeToken === '`' ? /[$'"`]/ : /[$'"\\]/;
    this.displaySpecial = escapeToken === '`' ? /[$`]/ : /[$\\]/;
    this.main = new ShellLex({ escapeToken });
    this.display = new ShellLex({ escapeToken, rawQuotes: true, skipUnsetEnv: true });
    this.raw = new ShellLex({ escapeToken: '\\', skipProcessQuotes: true });
  }

  private located<T>(site: ErrorSite, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ShellExpansionError) {
        const sourceLine = site.lines[site.line - 1];
        throw e.at({ file: site.file, line: site.line, column: site.column }, sourceLine);
      }
      throw e;
    }
  }

  word(w: string, env: EnvLookup, site: ErrorSite): string {
    if (!this.special.test(w)) return w;
    return this.located(site, () => this.main.processWord(w, env));
  }

  /** Expansion plus word splitting (EXPOSE). */
  words(w: string, env: EnvLookup, site: ErrorSite): string[] {
    // A non-empty word the lexer would not act on and that holds no space is its only word.
    if (w !== '' && !this.special.test(w) && !hasGoSpace(w)) return [w];
    return this.located(site, () => this.main.processWords(w, env));
  }

  /** Expansion and the names of the variables that were used / missing. */
  withMatches(w: string, env: EnvLookup, site: ErrorSite): { result: string; matched: ReadonlySet<string>; unmatched: ReadonlySet<string> } {
    return this.located(site, () => this.main.processWordWithMatches(w, env));
  }

  heredoc(body: string, env: EnvLookup, site: ErrorSite): string {
    return this.located(site, () => this.raw.processWord(body, env));
  }

  /** Best-effort expansion for display; the text as written when it does not expand. */
  forDisplay(text: string, env: EnvLookup): string {
    if (!this.displaySpecial.test(text)) return text;
    try {
      return this.display.processWord(text, env);
    } catch {
      return text;
    }
  }
}
