/**
 * BuildKit's shell lexer (`frontend/dockerfile/shell`), reimplemented: `$v`/`${v}` expansion with the
 * modifiers `-  :-  +  :+  ?  :?  #  ##  %  %%  /  //`, single and double quotes, the escape token,
 * and word splitting. Positional and special parameters (`$1`, `$@`, `$$`, …) exist syntactically but
 * are never set. Behaviour follows BuildKit exactly, quirks included (see docs/shell-expansion.md).
 *
 * A ShellLex holds only options; every call gets its own scanner state, so one instance can be shared.
 */
import { ShellExpansionError } from './errors.js';
import { replaceAll, replaceFirst, ShellPatternError, trimPrefix, trimSuffix } from './shell-pattern.js';
import type { EnvLookup, ProcessResult, ShellLexer, ShellLexOptions } from './types.js';
import { bounded, isDigit, isLetter, LexFailure, MAX_EXPANSION_CHARS, NO_NAMES, NO_WORDS, plainRunStops, RuneScanner, SPECIAL_PARAMS, WordSplitter } from './word-scan.js';

export { MAX_EXPANSION_CHARS };

/** State of one process call. */
class ShellWord {
  private readonly scanner: RuneScanner;
  private rawEscapes: boolean;
  /** Names found set / unset, each Set made at its first name (two per word were most of its garbage). */
  matchedNames: Set<string> | undefined;
  unmatchedNames: Set<string> | undefined;

  constructor(
    text: string,
    private readonly env: EnvLookup,
    private readonly opts: ShellLexOptions,
  ) {
    this.scanner = new RuneScanner(text);
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  /** `opts.words`: split the result into words too (only processWords needs them). */
  run(opts: { words: boolean }): { result: string; words: string[] } {
    return this.processStopOn(undefined, this.rawEscapes, opts.words);
  }

  /** Processes until `stopChar` (consumed) or, when undefined, the end of the input. */
  private processStopOn(stopChar: string | undefined, rawEscapes: boolean, splitWords = false): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = splitWords ? new WordSplitter() : NO_WORDS;
      const quotes = !(this.opts.skipProcessQuotes ?? false);
      const escape = this.opts.escapeToken;
      // Without word splitting, a run of characters that are not special here is copied as it is
      // (one slice, not a string concatenation per character).
      const stops = splitWords ? undefined : plainRunStops(stopChar, escape, quotes);
      for (let ch = this.scanner.peek(); ch !== undefined; ch = this.scanner.peek()) {
        if (stops !== undefined && !stops.includes(ch.charCodeAt(0))) {
          result += this.scanner.takeUntil(stops);
          continue;
        }
        if (stopChar !== undefined && ch === stopChar) {
          this.scanner.next();
          return { result, words: words.finish() };
        }
        if (ch === '$') {
          const tmp = this.processDollar();
          result = bounded(result, tmp);
          words.addString(tmp);
        } else if (quotes && (ch === "'" || ch === '"')) {
          const tmp = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else {
          let c = this.scanner.next() ?? '';
          if (c === escape) {
            if (this.rawEscapes) {
              words.addRawChar(c);
              result += c;
            }
            // The escape token escapes the next character; a trailing one is dropped.
            const escaped = this.scanner.next();
            if (escaped === undefined) break;
            c = escaped;
            words.addRawChar(c);
          } else {
            words.addChar(c);
          }
          result += c;
        }
      }
      if (stopChar !== undefined) {
        throw new LexFailure(`unexpected end of statement while looking for matching ${stopChar}`);
      }
      return { result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  /** Everything up to the next `'` is literal; there is no escape inside single quotes. */
  private processSingleQuote(): string {
    const raw = this.opts.rawQuotes ?? false;
    let result = '';
    const open = this.scanner.next() ?? '';
    if (raw) result += open;
    for (;;) {
      const ch = this.scanner.next();
      if (ch === undefined) throw new LexFailure('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (raw) result += ch;
        return result;
      }
      result += ch;
    }
  }

  /** Literal except `$` expansions; the escape token escapes only `"`, `$` and itself. */
  private processDoubleQuote(): string {
    const raw = this.opts.rawQuotes ?? false;
    const escape = this.opts.escapeToken;
    let result = '';
    const open = this.scanner.next() ?? '';
    if (raw) result += open;
    for (;;) {
      const peek = this.scanner.peek();
      if (peek === undefined) throw new LexFailure('unexpected end of statement while looking for matching double-quote');
      if (peek === '"') {
        const close = this.scanner.next() ?? '';
        if (raw) result += close;
        return result;
      }
      if (peek === '$') {
        result = bounded(result, this.processDollar());
        continue;
      }
      let ch = this.scanner.next() ?? '';
      if (ch === escape) {
        if (this.rawEscapes) result += ch;
        const next = this.scanner.peek();
        // An escape token at the very end is dropped (the missing quote is reported next round).
        if (next === undefined) continue;
        if (next === '"' || next === '$' || next === escape) ch = this.scanner.next() ?? '';
      }
      result += ch;
    }
  }

  private getEnv(name: string): { value: string; set: boolean } {
    const v = this.env(name);
    if (v !== undefined) {
      (this.matchedNames ??= new Set()).add(name);
      return { value: v, set: true };
    }
    (this.unmatchedNames ??= new Set()).add(name);
    return { value: '', set: false };
  }

  /** A variable name: letters/digits/_, or a run of digits (positional), or one special character. */
  private processName(): string {
    let name = '';
    for (let ch = this.scanner.peek(); ch !== undefined; ch = this.scanner.peek()) {
      if (name.length === 0 && isDigit(ch)) {
        for (let d = this.scanner.peek(); d !== undefined && isDigit(d); d = this.scanner.peek()) {
          name += this.scanner.next() ?? '';
        }
        return name;
      }
      if (name.length === 0 && SPECIAL_PARAMS.has(ch)) {
        return this.scanner.next() ?? '';
      }
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.scanner.next() ?? '';
    }
    return name;
  }

  /** Processes a modifier's word up to `stop`, turning "ran out of input" into BuildKit's message. */
  private modifierWord(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.processStopOn(stop, rawEscapes).result;
    } catch (e) {
      if (e instanceof LexFailure && this.scanner.peek() === undefined) throw new LexFailure(missing);
      throw e;
    }
  }

  private processDollar(): string {
    this.scanner.next();
    const skipUnset = this.opts.skipUnsetEnv ?? false;

    if (this.scanner.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const { value, set } = this.getEnv(name);
      if (!set && skipUnset) return `$${name}`;
      return value;
    }

    this.scanner.next();
    const first = this.scanner.peek();
    if (first === undefined) throw new LexFailure("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexFailure('syntax error: bad substitution');

    const name = this.processName();
    let ch = this.scanner.next();
    let chs = ch ?? '';
    let nullIsUnset = false;

    // BuildKit reports `${aaa` as an unsupported modifier (U+FFFD); say what is actually wrong.
    if (ch === undefined) throw new LexFailure("syntax error: missing '}'");
    if (ch === '}') {
      const { value, set } = this.getEnv(name);
      if (!set && skipUnset) return `\${${name}}`;
      return value;
    }
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.scanner.next();
      chs += ch ?? '';
    }
    if (nullIsUnset || ch === '+' || ch === '-' || ch === '?' || ch === '#' || ch === '%') {
      const rawEscapes = ch === '#' || ch === '%';
      if (nullIsUnset && rawEscapes) throw new LexFailure(`unsupported modifier (${chs}) in substitution`);
      let word = this.modifierWord('}', rawEscapes, "syntax error: missing '}'");
      const { value, set } = this.getEnv(name);
      if (skipUnset && !set) return `\${${name}${chs}${word}}`;
      const unsetOrNull = !set || (nullIsUnset && value === '');
      switch (ch) {
        case '-':
          return unsetOrNull ? word : value;
        case '+':
          return unsetOrNull ? '' : word;
        case '?':
          if (!set) throw new LexFailure(`${name}: ${word === '' ? 'is not allowed to be unset' : word}`);
          if (nullIsUnset && value === '') throw new LexFailure(`${name}: ${word === '' ? 'is not allowed to be empty' : word}`);
          return value;
        case '#':
        case '%': {
          // One more `#`/`%` asks for the longest match instead of the shortest.
          const greedy = word.startsWith(ch);
          if (greedy) word = word.slice(1);
          return this.withPattern(word, () =>
            ch === '%' ? trimSuffix(word, value, { greedy }) : trimPrefix(word, value, { greedy }),
          );
        }
        default:
          throw new LexFailure(`unsupported modifier (${chs}) in substitution`);
      }
    }
    if (ch === '/') {
      const all = this.scanner.peek() === '/';
      if (all) this.scanner.next();
      const pattern = this.modifierWord('/', true, "syntax error: missing '/' in ${}");
      const replacement = this.modifierWord('}', true, "syntax error: missing '}'");
      const { value, set } = this.getEnv(name);
      if (skipUnset && !set) return `\${${name}/${pattern}/${replacement}}`;
      return this.withPattern(pattern, () =>
        all ? replaceAll(pattern, value, replacement) : replaceFirst(pattern, value, replacement),
      );
    }
    throw new LexFailure(`unsupported modifier (${chs}) in substitution`);
  }

  private withPattern(pattern: string, fn: () => string): string {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ShellPatternError) throw new LexFailure(`invalid pattern (${pattern}) in substitution: ${e.message}`);
      throw e;
    }
  }
}

/** The lexer. `new ShellLex({ escapeToken: '\\' })` is what most callers want. */
export class ShellLex implements ShellLexer {
  constructor(private readonly opts: ShellLexOptions) {}

  /** The same lexer with some options changed. */
  with(overrides: Partial<ShellLexOptions>): ShellLex {
    return new ShellLex({ ...this.opts, ...overrides });
  }

  processWord(word: string, env: EnvLookup): string {
    return this.run(word, env, { words: false }).result;
  }

  processWords(word: string, env: EnvLookup): string[] {
    return this.run(word, env, { words: true }).words;
  }

  processWordWithMatches(word: string, env: EnvLookup): ProcessResult {
    const { result, matched, unmatched } = this.run(word, env, { words: false });
    return { result, matched, unmatched };
  }

  private run(word: string, env: EnvLookup, opts: { words: boolean }): { result: string; words: string[]; matched: ReadonlySet<string>; unmatched: ReadonlySet<string> } {
    const sw = new ShellWord(word, env, this.opts);
    try {
      const { result, words } = sw.run(opts);
      return { result, words, matched: sw.matchedNames ?? NO_NAMES, unmatched: sw.unmatchedNames ?? NO_NAMES };
    } catch (e) {
      if (e instanceof LexFailure) throw new ShellExpansionError({ word, reason: e.message });
      throw e;
    }
  }
}
