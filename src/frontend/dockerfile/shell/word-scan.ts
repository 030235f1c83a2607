/**
 * The shell lexer's scanning pieces (lex.ts): a Go-style scanner over code points, the word
 * splitter that collects processStopOn's words, the character classes of parameter names, and the
 * bound on how long one word may expand.
 */
import { isGoSpace } from '../../../util/pattern-matcher/go-compat.js';
import { runeAt } from '../go-text.js';

/** A failure inside the lexer; becomes a ShellExpansionError naming the whole word. */
export class LexFailure extends Error {}

/**
 * Go text/scanner over code points: `undefined` is EOF; a leading byte-order mark is skipped. It
 * walks the string itself (a surrogate pair is one character, a lone surrogate one too, as with
 * `Array.from`) instead of splitting it into an array of one-character strings first.
 */
export class RuneScanner {
  private readonly text: string;
  private pos: number;

  constructor(text: string) {
    this.text = text;
    this.pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  }

  peek(): string | undefined {
    return runeAt(this.text, this.pos);
  }

  next(): string | undefined {
    const r = this.peek();
    if (r !== undefined) this.pos += r.length;
    return r;
  }

  /**
   * Consumes characters up to the end or the first UTF-16 unit in `stops` (character codes, all
   * ASCII, so never half of a surrogate pair) and returns them as one string.
   */
  takeUntil(stops: readonly number[]): string {
    const t = this.text;
    const start = this.pos;
    let p = start;
    for (; p < t.length; p++) if (stops.includes(t.charCodeAt(p))) break;
    this.pos = p;
    return t.slice(start, p);
  }
}

/** What processStopOn reports characters to; words are only collected when asked for. */
export interface Splitter {
  addChar(ch: string): void;
  addRawChar(ch: string): void;
  addString(s: string): void;
  addRawString(s: string): void;
  finish(): string[];
}

/** For processWord and modifier words: nobody reads the words, so none are built. */
export const NO_WORDS: Splitter = {
  addChar: () => undefined,
  addRawChar: () => undefined,
  addString: () => undefined,
  addRawString: () => undefined,
  finish: () => [],
};

/** Accumulates the split words of one processStopOn call. */
export class WordSplitter implements Splitter {
  private word = '';
  private readonly words: string[] = [];
  private inWord = false;

  /** An unquoted character: whitespace ends the current word. */
  addChar(ch: string): void {
    if (isGoSpace(ch)) {
      if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }

  /** An escaped or quoted character: always part of the word. */
  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  /** An expansion result: split like unquoted text. */
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  /** A quoted string: never split (an empty `""` still makes no word of its own). */
  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

// ASCII answers without a Unicode regexp test per character; the regexps decide the rest.
export const isLetter = (ch: string): boolean => {
  const c = ch.charCodeAt(0);
  if (c < 0x80) return ch.length === 1 && ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a));
  return /^\p{L}$/u.test(ch);
};
export const isDigit = (ch: string): boolean => {
  const c = ch.charCodeAt(0);
  if (c < 0x80) return ch.length === 1 && c >= 0x30 && c <= 0x39;
  return /^\p{Nd}$/u.test(ch);
};
export const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);
/** The names of a word that names no variable (shared, read-only). */
export const NO_NAMES: ReadonlySet<string> = new Set<string>();

/**
 * The characters processStopOn treats specially (`$`, the escape token, quotes when they are
 * processed, the stop character): every other character is copied unchanged.
 */
export function plainRunStops(stopChar: string | undefined, escape: string, quotes: boolean): number[] {
  const stops = [0x24, escape.charCodeAt(0)];
  if (quotes) stops.push(0x22, 0x27);
  if (stopChar !== undefined) stops.push(stopChar.charCodeAt(0));
  return stops;
}

/**
 * Most characters one word may expand to. Docker sets no limit, and `ENV A=$A$A` repeated (or a
 * variable that grows itself) ended in V8's "Invalid string length" with no location after
 * gigabytes of work. A kernel takes at most 128 KiB per environment string (MAX_ARG_STRLEN), so a
 * mebibyte leaves room for any real use.
 */
export const MAX_EXPANSION_CHARS = 1 << 20;

export function bounded(result: string, add: string): string {
  if (result.length + add.length > MAX_EXPANSION_CHARS) {
    throw new LexFailure(`the expansion is longer than ${MAX_EXPANSION_CHARS} characters (a variable that refers to itself or doubles at every step?)`);
  }
  return result + add;
}
