/**
 * How each instruction's argument text becomes its argument list, after BuildKit's line parsers
 * (`line_parsers.go`): exec-form JSON or shell form, whitespace lists, ENV/LABEL key/value triples,
 * ARG words, HEALTHCHECK's type word. ONBUILD is handled by the caller (instruction.ts).
 */
import { parseExecForm, NOT_STRING_ARRAY } from './exec-form.js';
import { goQuote, isGoSpace, splitAsciiWhitespace, isAsciiSeparator } from './go-text.js';

/** A syntax error in the argument text; `offset` is relative to that text. */
export class ArgumentError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'ArgumentError';
  }
}

export interface ParsedArguments {
  readonly args: readonly string[];
  /** True when the arguments came from a JSON array. */
  readonly json: boolean;
}

/** A word of `parseWords`, with its offset in the text. */
export interface Word {
  readonly value: string;
  readonly offset: number;
}

const NONE: ParsedArguments = { args: [], json: false };

/** Parses the argument text of a (lower-cased) keyword other than `onbuild`. */
export function parseArguments(keyword: string, rest: string, escape: '\\' | '`'): ParsedArguments {
  switch (keyword) {
    case 'run':
    case 'cmd':
    case 'entrypoint':
    case 'shell':
      return parseMaybeJson(rest);
    case 'add':
    case 'copy':
    case 'volume':
      return parseMaybeJsonToList(rest);
    case 'from':
    case 'expose':
      return { args: parseWhitespaceDelimited(rest), json: false };
    case 'env':
      return { args: parseNameVal(rest, 'ENV', escape), json: false };
    case 'label':
      return { args: parseNameVal(rest, 'LABEL', escape), json: false };
    case 'arg':
      return { args: parseWords(rest, escape).map((w) => w.value), json: false };
    case 'maintainer':
    case 'user':
    case 'workdir':
    case 'stopsignal':
      return { args: rest === '' ? [] : [rest], json: false };
    case 'healthcheck':
      return parseHealthConfig(rest);
    case 'onbuild':
      return NONE; // only reached without arguments; instruction.ts parses the nested instruction
    default:
      // Unknown instructions keep one empty argument (BuildKit's parseIgnore); the typed layer
      // reports them.
      return { args: [''], json: false };
  }
}

function parseMaybeJson(rest: string): ParsedArguments {
  if (rest === '') return NONE;
  const r = parseExecForm(rest);
  switch (r.kind) {
    case 'json': return { args: r.values, json: true };
    case 'nonString': throw new ArgumentError(NOT_STRING_ARRAY, r.offset);
    case 'notJson': return { args: [rest], json: false };
  }
}

function parseMaybeJsonToList(rest: string): ParsedArguments {
  const r = parseExecForm(rest);
  switch (r.kind) {
    case 'json': return { args: r.values, json: true };
    case 'nonString': throw new ArgumentError(NOT_STRING_ARRAY, r.offset);
    case 'notJson': return { args: parseWhitespaceDelimited(rest), json: false };
  }
}

function parseWhitespaceDelimited(rest: string): string[] {
  return rest === '' ? [] : splitAsciiWhitespace(rest);
}

/** HEALTHCHECK: the first word (CMD, NONE, …) as written, then the rest as RUN would parse it. */
function parseHealthConfig(rest: string): ParsedArguments {
  let sep = 0;
  while (sep < rest.length && !isGoSpace(rest.charCodeAt(sep))) sep++;
  if (sep === 0) return NONE;
  let next = sep;
  while (next < rest.length && isGoSpace(rest.charCodeAt(next))) next++;
  const cmd = parseOffsetting(() => parseMaybeJson(rest.slice(next)), next);
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}

/** ENV and LABEL: `KEY value…` (old form) or `k=v k2=v2` (new form), as key/value/separator triples. */
function parseNameVal(rest: string, key: string, escape: '\\' | '`'): string[] {
  const words = parseWords(rest, escape);
  const first = words[0];
  if (!first) return [];
  if (!first.value.includes('=')) {
    // Old form: split the raw text (quotes and escapes kept) at the first whitespace run.
    let i = 0;
    while (i < rest.length && !isAsciiSeparator(rest.charCodeAt(i))) i++;
    if (i === rest.length) throw new ArgumentError(`${key} must have two arguments`, rest.length);
    let j = i;
    while (j < rest.length && isAsciiSeparator(rest.charCodeAt(j))) j++;
    return [rest.slice(0, i), rest.slice(j), ''];
  }
  const out: string[] = [];
  for (const w of words) {
    const eq = w.value.indexOf('=');
    if (eq < 0) throw new ArgumentError(`Syntax error - can't find = in ${goQuote(w.value)}. Must be of the form: name=value`, w.offset);
    out.push(w.value.slice(0, eq), w.value.slice(eq + 1), '=');
  }
  return out;
}

const enum Phase { Spaces, Word, Quote }

/** A character standing for an invalid source byte (utf8-lossless). */
const ESCAPED_BYTE = /[\udc80-\udcff]/;

/**
 * BuildKit's `parseWords`: splits on unquoted whitespace; quotes and escape pairs stay in the word
 * (they are processed later, at build time); a trailing escape token is dropped. Since nothing
 * else is changed, each word is a slice of the text. Go writes invalid UTF-8 bytes here as U+FFFD,
 * so escaped bytes become U+FFFD too.
 */
export function parseWords(rest: string, escape: '\\' | '`'): Word[] {
  const words: Word[] = [];
  const n = rest.length;
  let phase = Phase.Spaces;
  let quote = '';
  let start = 0;
  const push = (end: number): void => {
    if (end <= start) return;
    const w = rest.slice(start, end);
    words.push({ value: ESCAPED_BYTE.test(w) ? replaceEscapedBytes(w) : w, offset: start });
  };
  for (let pos = 0; pos < n; pos++) {
    const ch = rest[pos] as string;
    if (phase === Phase.Spaces) {
      if (isGoSpace(ch.charCodeAt(0))) continue;
      phase = Phase.Word;
      start = pos;
    }
    if (phase === Phase.Word) {
      if (isGoSpace(ch.charCodeAt(0))) {
        phase = Phase.Spaces;
        push(pos);
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        phase = Phase.Quote;
      } else if (ch === escape) {
        if (pos + 1 === n) {
          push(pos); // a trailing escape token is dropped
          return words;
        }
        pos++; // the escaped character stays, whatever it is
      }
      continue;
    }
    // Phase.Quote
    if (ch === quote) {
      phase = Phase.Word;
    } else if (ch === escape && quote !== "'") {
      if (pos + 1 === n) {
        push(pos);
        return words;
      }
      pos++;
    }
  }
  if (phase !== Phase.Spaces) push(n);
  return words;
}

/** Lone escaped bytes (not halves of a surrogate pair) → U+FFFD. */
function replaceEscapedBytes(s: string): string {
  return s.replace(/(?<![\ud800-\udbff])[\udc80-\udcff]/g, '\ufffd');
}

/** Runs a parser on a suffix of the text, shifting its error offsets back to the whole text. */
function parseOffsetting<T>(fn: () => T, by: number): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ArgumentError) throw new ArgumentError(e.message, e.offset + by);
    throw e;
  }
}
