/**
 * Parser directives (`# syntax=…`, `# escape=…`, `# check=…`) exactly as BuildKit reads them: only
 * in the comment lines at the very top of the file, keys case-insensitive, a repeated key or a bad
 * escape value an error, and the first line that is not a valid directive ends the section. Also
 * BuildKit's `DetectSyntax`/`ParseDirective`, which additionally skip a `#!` shebang line and accept
 * `//`-comment and JSON forms.
 */
import type { Directive } from './ast.js';
import { goTrimLeftSpace } from './go-text.js';

export type DirectiveName = Directive['name'];

const VALID: ReadonlySet<string> = new Set<DirectiveName>(['syntax', 'escape', 'check']);

/** A directive found on a line, with where its key and value start (0-based, in that line). */
export interface LineDirective {
  readonly name: DirectiveName;
  readonly value: string;
  readonly line: number;
  readonly keyIndex: number;
  readonly valueIndex: number;
}

/** A malformed directive section; `index` points into the line at fault. */
export class DirectiveError extends Error {
  constructor(message: string, readonly index: number) {
    super(message);
    this.name = 'DirectiveError';
  }
}

export interface DirectiveParserOptions {
  /** The comment marker directives start with. Default `#`. */
  readonly prefix?: '#' | '//';
  /** Number of lines already consumed before the first parseLine call. Default 0. */
  readonly linesBefore?: number;
}

/** Go's `\s` (RE2): `[\t\n\f\r ]` (no \v). */
function isReSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * Matches `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` by hand: that regexp backtracks quadratically
 * on long runs of blanks, and directive lines may be 64 KiB long.
 */
function matchDirective(s: string, from: number): { key: string; value: string; keyIndex: number; valueIndex: number } | undefined {
  let i = from;
  if (i >= s.length || !isAlpha(s.charCodeAt(i))) return undefined;
  i++;
  while (i < s.length && (isAlpha(s.charCodeAt(i)) || (s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39))) i++;
  const key = s.slice(from, i);
  while (i < s.length && isReSpace(s.charCodeAt(i))) i++;
  if (s[i] !== '=') return undefined;
  i++;
  const restStart = i;
  if (restStart >= s.length) return undefined; // `(.+?)` needs one character
  while (i < s.length && isReSpace(s.charCodeAt(i))) i++;
  if (i === s.length) {
    // Only blanks after `=`: the lazy group still takes the last one.
    return { key, value: s.slice(s.length - 1), keyIndex: from, valueIndex: s.length - 1 };
  }
  let end = s.length;
  while (end > i && isReSpace(s.charCodeAt(end - 1))) end--;
  return { key, value: s.slice(i, end), keyIndex: from, valueIndex: i };
}

/** Reads directives line by line; one instance per file. */
export class DirectiveParser {
  private done = false;
  private readonly seen = new Set<string>();
  private line: number;
  private readonly prefix: string;

  constructor(opts: DirectiveParserOptions = {}) {
    this.prefix = opts.prefix ?? '#';
    this.line = opts.linesBefore ?? 0;
  }

  /** True once a line that is not a directive has been seen. */
  get finished(): boolean {
    return this.done;
  }

  /** The directive on this line (without its line terminator), if any. Throws DirectiveError. */
  parseLine(text: string): LineDirective | undefined {
    this.line++;
    if (this.done) return undefined;
    if (!text.startsWith(this.prefix)) {
      this.done = true;
      return undefined;
    }
    const afterPrefix = text.slice(this.prefix.length);
    const from = this.prefix.length + (afterPrefix.length - goTrimLeftSpace(afterPrefix).length);
    const m = matchDirective(text, from);
    const name = m?.key.toLowerCase();
    if (!m || name === undefined || !VALID.has(name)) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(name)) throw new DirectiveError(`only one ${name} parser directive can be used`, m.keyIndex);
    this.seen.add(name);
    if (name === 'escape' && m.value !== '\\' && m.value !== '`') {
      throw new DirectiveError(`invalid escape token '${m.value}' does not match \` or \\`, m.valueIndex);
    }
    return { name: name as DirectiveName, value: m.value, line: this.line, keyIndex: m.keyIndex, valueIndex: m.valueIndex };
  }
}

/** What DetectSyntax / ParseDirective report. */
export interface DetectedDirective {
  /** The value up to the first space (`docker/dockerfile:1` of `docker/dockerfile:1 // opts`). */
  readonly ref: string;
  /** The whole value. */
  readonly cmdline: string;
  /** 1-based line; as in BuildKit, the JSON form reports 0 (or 1 after a shebang). */
  readonly line: number;
}

/** BuildKit's `DetectSyntax`: the frontend named by a `syntax` directive in any of its forms. */
export function detectSyntax(source: string): DetectedDirective | undefined {
  return findDirective('syntax', source, true);
}

/** BuildKit's `ParseDirective`: a `#`-form directive after an optional shebang. */
export function parseDirective(key: DirectiveName, source: string): DetectedDirective | undefined {
  return findDirective(key, source, false);
}

function findDirective(key: DirectiveName, source: string, anyFormat: boolean): DetectedDirective | undefined {
  let dt = source.startsWith('\ufeff') ? source.slice(1) : source;
  const nl = dt.indexOf('\n');
  const firstLine = nl < 0 ? dt : dt.slice(0, nl);
  const hadShebang = firstLine.startsWith('#!');
  if (hadShebang) dt = nl < 0 ? '' : dt.slice(nl + 1);
  const linesBefore = hadShebang ? 1 : 0;

  const fromComments = (prefix: '#' | '//'): DetectedDirective | undefined => {
    const parser = new DirectiveParser({ prefix, linesBefore });
    const lines = dt.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const raw of lines) {
      if (parser.finished) break;
      let d: LineDirective | undefined;
      try {
        d = parser.parseLine(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
      } catch {
        break; // BuildKit keeps the directives read before the error
      }
      if (d?.name === key) return { ref: d.value.split(' ')[0] as string, cmdline: d.value, line: d.line };
    }
    return undefined;
  };

  const found = fromComments('#') ?? (anyFormat ? fromComments('//') : undefined);
  if (found || !anyFormat) return found;
  try {
    const obj: unknown = JSON.parse(dt);
    if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
      const v = (obj as Record<string, unknown>)[key];
      if (typeof v === 'string') return { ref: v, cmdline: v, line: linesBefore };
    }
  } catch {
    // not JSON
  }
  return undefined;
}
