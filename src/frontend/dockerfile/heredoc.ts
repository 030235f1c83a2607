/**
 * Heredoc markers (`<<EOF`, `<<-EOF`, `3<<'EOF'`) as BuildKit finds them: the logical line is split
 * into shell words (quotes and escapes kept), each word matching `^(\d*)<<(-?)\s*([^<]*)$` is a
 * marker, and its delimiter is the word after shell processing; any quoting in the delimiter turns
 * off expansion of the body. Bodies are read by the parser (parse.ts).
 */
import { isGoSpace } from './go-text.js';
import { lexHeredocWords, ShellSyntaxError } from './heredoc-lexer.js';

/** A heredoc marker: everything but the body. */
export interface HeredocMarker {
  readonly name: string;
  readonly fileDescriptor: number;
  readonly expand: boolean;
  readonly chomp: boolean;
}

/** Go's regexp `^(\d*)<<(-?)\s*([^<]*)$` (`\s` is `[\t\n\f\r ]` in Go). */
const MARKER = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const MAX_UINT64 = (1n << 64n) - 1n;
/** A delimiter the shell lexer returns unchanged in both passes (no blanks, quotes, escapes or `$`). */
const PLAIN_DELIMITER = /^[A-Za-z0-9_]+$/;

/**
 * Parses one shell word as a heredoc marker: undefined when it is not one (`<<`, `<EOF`,
 * `<<EOF sh`), throws ShellSyntaxError when its delimiter is malformed (`<<'EOF`).
 */
export function parseHeredoc(word: string): HeredocMarker | undefined {
  if (!word.includes('<<')) return undefined; // most words of a line; skips the regexp
  const m = MARKER.exec(word);
  if (!m) return undefined;
  const [, digits = '', dash = '', rest = ''] = m;
  if (rest === '') return undefined;
  // The usual `<<EOF`: lexing it (twice) was ~8 % of a conversion's CPU time for what is `rest` itself.
  if (PLAIN_DELIMITER.test(rest)) return { name: rest, fileDescriptor: parseFd(digits), expand: true, chomp: dash === '-' };
  const words = lexHeredocWords(rest, { rawQuotes: false, rawEscapes: false });
  if (words.length !== 1) return undefined;
  const rawWords = lexHeredocWords(rest, { rawQuotes: true, rawEscapes: false });
  if (rawWords.length !== words.length) {
    throw new ShellSyntaxError(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  }
  const name = words[0] as string;
  // Quotes that the unquoting removed were real quotes: the delimiter was (partly) quoted.
  const expand = countQuotes(name) === countQuotes(rawWords[0] as string);
  return { name, fileDescriptor: parseFd(digits), expand, chomp: dash === '-' };
}

/**
 * The words the raw lexing below makes of a line that has nothing for the lexer to act on: no `$`,
 * quotes or escapes, no surrogates (pairs or invalid bytes), no BOM, and no `<<` followed by the
 * blanks the lexer would glue to it. Such a line is split at Go spaces, as the lexer splits it;
 * undefined for other lines.
 */
export function plainLineWords(line: string): string[] | undefined {
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x24 || c === 0x27 || c === 0x22 || c === 0x5c || c >= 0xd800) return undefined;
    if (c === 0x3c && line.charCodeAt(i + 1) === 0x3c) {
      const after = line.charCodeAt(i + 2);
      if (after === 0x20 || after === 0x09 || after === 0x0d) return undefined;
    }
    if (isGoSpace(c)) {
      if (start >= 0) words.push(line.slice(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) words.push(line.slice(start));
  return words;
}

/** Every heredoc marker of a logical line, in order; none when the line does not lex. */
export function heredocsFromLine(line: string): HeredocMarker[] {
  // The usual `RUN <<EOF` and `COPY <<EOF /dst` lines need no lexer (~2 µs per line with one).
  let words = plainLineWords(line);
  if (words === undefined) {
    try {
      words = lexHeredocWords(line, { rawQuotes: true, rawEscapes: true });
    } catch {
      return []; // BuildKit ignores lexing errors here: such a line simply has no heredocs
    }
  }
  const out: HeredocMarker[] = [];
  for (const w of words) {
    const h = parseHeredoc(w);
    if (h) out.push(h);
  }
  return out;
}

/** Strips leading tabs from every line of a `<<-` body (BuildKit's ChompHeredocContent). */
export function chompHeredocContent(s: string): string {
  if (!s.includes('\t')) return s;
  // Only `\n` starts a line here (Go's `(?m)^`), not `\r` or U+2028 as in a JavaScript /m regex.
  return s.split('\n').map((l) => l.replace(/^\t+/, '')).join('\n');
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x27) n++;
  }
  return n;
}

/** Go's `strconv.ParseUint(s, 10, 0)` with the error ignored: "" → 0, overflow → max uint64. */
function parseFd(digits: string): number {
  const significant = digits.replace(/^0+/, '');
  if (significant === '') return 0;
  if (significant.length > 20) return Number(MAX_UINT64); // skip parsing absurdly long numbers
  const v = BigInt(significant);
  return Number(v > MAX_UINT64 ? MAX_UINT64 : v);
}
