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

/** Characters after which the display shortcut leaves a text to the lexer: quotes and both escape tokens. */
const NOT_PLAIN_DISPLAY = /['"\\`]/;

function isNameStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39);
}

/**
 * The display lexer's answer (quotes kept, unset variables left as written) for a text whose only
 * expansions are `$NAME` and `${NAME}` and that holds no quote or escape token (a RUN line such as
 * `make VERSION=$VERSION`); undefined for any other text, which the lexer handles. The lexer was
 * most of the display-name cost of such steps. A test holds it to the lexer.
 */
export function plainDisplayExpansion(text: string, env: EnvLookup): string | undefined {
  if (NOT_PLAIN_DISPLAY.test(text)) return undefined;
  let out = '';
  let from = 0;
  let at = text.indexOf('$');
  while (at >= 0) {
    const braced = text.charCodeAt(at + 1) === 0x7b;
    const start = braced ? at + 2 : at + 1;
    if (!isNameStart(text.charCodeAt(start))) return undefined;
    let end = start + 1;
    while (end < text.length && isNameChar(text.charCodeAt(end))) end++;
    // The lexer's names go on through non-ASCII letters and digits: those are left to it.
    if (text.charCodeAt(end) >= 0x80 || (braced && text.charCodeAt(end) !== 0x7d)) return undefined;
    const stop = braced ? end + 1 : end;
    const value = env(text.slice(start, end));
    if (value !== undefined) {
      out += text.slice(from, at) + value;
      from = stop;
    }
    at = text.indexOf('$', stop);
  }
  return from === 0 ? text : out + text.slice(from);
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
    const plain = plainDisplayExpansion(text, env);
    if (plain !== undefined) return plain;
    try {
      return this.display.processWord(text, env);
    } catch {
      return text;
    }
  }
}
