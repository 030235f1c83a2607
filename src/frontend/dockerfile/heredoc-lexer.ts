/**
 * The shell-word splitting BuildKit uses to find heredoc markers (`heredocsFromLine`) and to read
 * a marker's delimiter (`ParseHeredoc`). It is BuildKit's shell lexer reduced to what those two
 * calls use: backslash escapes (always `\`, whatever the Dockerfile's escape token), no variables
 * set and unset ones left as written (`SkipUnsetEnv`), optionally raw quotes and raw escapes, and
 * `<<` keeping the blanks after it in its word (so `<< EOF` is one word). Quirks are kept on
 * purpose because they decide which lines have heredocs: e.g. the word buffer is shared with the
 * nested lexing of `${x:-…}`, which drops the part of the word before it.
 *
 * Written by hand rather than with Chevrotain: `${…}` nests and its handling depends on the
 * modifier, which a token grammar would only obscure. The full lexer (with variables) lives in
 * shell/; this one must stay byte-for-byte BuildKit's heredoc behaviour even if that one evolves.
 */
import { goQuote, isGoSpace, runeAt } from './go-text.js';
import { isEscapedByte } from '../../util/utf8-lossless.js';

/** A syntax error of the shell lexer (unterminated quote, bad `${…}`). */
export class ShellSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellSyntaxError';
  }
}

export interface HeredocLexOptions {
  /** Keep quote characters in the words. */
  readonly rawQuotes: boolean;
  /** Keep escape characters in the words. */
  readonly rawEscapes: boolean;
}

const ESC = '\\';
/** Go's `string(rune(-1))`: what BuildKit prints for "end of input" in modifier messages. */
const EOF_CHAR = '\ufffd';
const DIGIT = /^\p{Nd}$/u;
/**
 * Deepest `${…${…}}` nesting lexed. Go's growable stacks take any depth; ours would overflow, so
 * deeper input is reported as a syntax error (a line then simply has no heredocs).
 */
const MAX_NESTING = 500;
const LETTER = /^\p{L}$/u;

/** Splits `src` into words; throws ShellSyntaxError ("failed to process …") on bad syntax. */
export function lexHeredocWords(src: string, opts: HeredocLexOptions): string[] {
  try {
    return new ShellWordLexer(src, opts).words();
  } catch (e) {
    if (e instanceof ShellSyntaxError) throw new ShellSyntaxError(`failed to process ${goQuote(src)}: ${e.message}`);
    throw e;
  }
}

/** Word accumulator; the buffer object is shared between nested calls, as in BuildKit. */
class Words {
  readonly list: string[] = [];
  private inWord = false;

  constructor(private readonly buf: { s: string }) {}

  addChar(ch: string): void {
    const space = isGoSpace(ch.charCodeAt(0));
    if (space && this.inWord) {
      if (this.buf.s.length !== 0) {
        this.list.push(this.buf.s);
        this.buf.s = '';
        this.inWord = false;
      }
    } else if (!space) {
      this.addRaw(ch);
    }
  }

  addRaw(s: string): void {
    this.buf.s += s;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  done(): string[] {
    if (this.buf.s.length > 0) {
      this.list.push(this.buf.s);
      this.buf.s = '';
      this.inWord = false;
    }
    return this.list;
  }
}

class ShellWordLexer {
  /** The source, walked by code point (a lone surrogate is one character, as with for…of). */
  private readonly src: string;
  private pos = 0;
  private rawEscapes: boolean;
  private readonly rawQuotes: boolean;
  private readonly buf = { s: '' };
  private depth = 0;

  constructor(src: string, opts: HeredocLexOptions) {
    this.src = src;
    // Go's text/scanner skips a leading BOM.
    if (src.charCodeAt(0) === 0xfeff) this.pos = 1;
    this.rawEscapes = opts.rawEscapes;
    this.rawQuotes = opts.rawQuotes;
  }

  words(): string[] {
    return this.processStopOn(undefined, this.rawEscapes).words;
  }

  /** The character at `pos`: a surrogate pair whole, U+FFFD for an invalid byte (as Go's scanner). */
  private peek(): string | undefined {
    const r = runeAt(this.src, this.pos);
    // A pair starts with a high surrogate, never an escaped byte (U+DC80..U+DCFF).
    return r !== undefined && isEscapedByte(r.charCodeAt(0)) ? '\ufffd' : r;
  }

  private next(): string | undefined {
    const c = this.peek();
    // A pair is two units; U+FFFD stands for one (an invalid byte is one lone surrogate).
    if (c !== undefined) this.pos += c.length;
    return c;
  }

  private processStopOn(stop: string | undefined, rawEscapes: boolean): { result: string; words: string[] } {
    let result = '';
    this.buf.s = '';
    const words = new Words(this.buf);
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    if (++this.depth > MAX_NESTING) throw new ShellSyntaxError('variable substitutions nested too deeply');
    try {
      for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
        if (stop !== undefined && ch === stop) {
          this.next();
          return { result, words: words.done() };
        }
        if (ch === '$') {
          const tmp = this.processDollar();
          result += tmp;
          words.addString(tmp);
          continue;
        }
        if (ch === '<' || ch === "'" || ch === '"') {
          const tmp = ch === '<' ? this.processPossibleHeredoc() : ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
          result += tmp;
          words.addRaw(tmp);
          continue;
        }
        let c = this.next() as string;
        if (c === ESC) {
          if (this.rawEscapes) {
            words.addRaw(c);
            result += c;
          }
          const escaped = this.next();
          if (escaped === undefined) break; // a trailing escape is dropped
          c = escaped;
          words.addRaw(c);
        } else {
          words.addChar(c);
        }
        result += c;
      }
      if (stop !== undefined) throw new ShellSyntaxError(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.done() };
    } finally {
      this.rawEscapes = saved;
      this.depth--;
    }
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let out = '<<';
    for (let c = this.peek(); c === ' ' || c === '\t' || c === '\r'; c = this.peek()) out += this.next() as string;
    return out;
  }

  private processSingleQuote(): string {
    const open = this.next() as string;
    let result = this.rawQuotes ? open : '';
    for (;;) {
      const c = this.next();
      if (c === undefined) throw new ShellSyntaxError('unexpected end of statement while looking for matching single-quote');
      if (c === "'") return this.rawQuotes ? result + c : result;
      result += c;
    }
  }

  private processDoubleQuote(): string {
    const open = this.next() as string;
    let result = this.rawQuotes ? open : '';
    for (;;) {
      const p = this.peek();
      if (p === undefined) throw new ShellSyntaxError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        this.next();
        return this.rawQuotes ? result + p : result;
      }
      if (p === '$') {
        result += this.processDollar();
        continue;
      }
      let c = this.next() as string;
      if (c === ESC) {
        if (this.rawEscapes) result += c;
        const after = this.peek();
        if (after === undefined) continue; // reported as an unterminated quote next round
        if (after === '"' || after === '$' || after === ESC) c = this.next() as string;
      }
      result += c;
    }
  }

  /** `$name`, `${name}`, `${name<mod>word}`, `${name/pat/rep}`; all unset, so all kept as written. */
  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      return name === '' ? '$' : `$${name}`;
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw new ShellSyntaxError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ShellSyntaxError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    let chs = ch ?? EOF_CHAR;
    let nullIsUnset = false;
    if (ch === '}') return `\${${name}}`;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      chs += ch ?? EOF_CHAR;
    }
    // After `:` any character gets the modifier treatment (Go's fallthrough).
    if (nullIsUnset || ch === '+' || ch === '-' || ch === '?' || ch === '#' || ch === '%') {
      const raw = ch === '#' || ch === '%';
      if (nullIsUnset && raw) throw new ShellSyntaxError(`unsupported modifier (${chs}) in substitution`);
      const word = this.stopOnOrMissing('}', raw, "syntax error: missing '}'");
      return `\${${name}${chs}${word}}`;
    }
    if (ch === '/') {
      if (this.peek() === '/') this.next(); // replace-all; the second slash is not kept
      const pattern = this.stopOnOrMissing('/', true, "syntax error: missing '/' in ${}");
      const replacement = this.stopOnOrMissing('}', true, "syntax error: missing '}'");
      return `\${${name}/${pattern}/${replacement}}`;
    }
    throw new ShellSyntaxError(`unsupported modifier (${chs}) in substitution`);
  }

  private stopOnOrMissing(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.processStopOn(stop, rawEscapes).result;
    } catch (e) {
      if (e instanceof ShellSyntaxError && this.peek() === undefined) throw new ShellSyntaxError(missing);
      throw e;
    }
  }

  private processName(): string {
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === '' && DIGIT.test(ch)) {
        while (this.peek() !== undefined && DIGIT.test(this.peek() as string)) name += this.next() as string;
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(ch)) return this.next() as string;
      if (!LETTER.test(ch) && !DIGIT.test(ch) && ch !== '_') break;
      name += this.next() as string;
    }
    return name;
  }
}
