/**
 * Translates Go (RE2) regular-expression source into an equivalent JavaScript RegExp.
 *
 * Docker's pattern matcher and BuildKit's shell lexer both build Go regexp *source text* from user
 * patterns and hand it to `regexp.Compile`; some user input therefore reaches the regexp parser
 * unescaped (`[...]` classes, `\x` escapes, even a `*` inside a class). To behave the same way —
 * including which patterns are errors — we build the same Go source and translate it here instead of
 * generating JS syntax directly. Only what Go's parser accepts with its default (Perl) flags and what
 * those generators can produce is supported; anything else is reported as an error rather than
 * guessed at.
 *
 * Semantics kept: `.` does not match `\n` (Go default), negated classes do (Go's ClassNL), `\s` is
 * ASCII (`[\t\n\f\r ]`), matching is by code point (`u` flag).
 */

export class GoRegexpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoRegexpError';
  }
}

export interface TranslateOptions {
  /** Extra RegExp flags (`g`, `y`); `u` is always set. */
  readonly flags?: string;
}

/** Compiles Go regexp source to a JS RegExp; throws GoRegexpError where Go's parser would fail. */
export function compileGoRegexp(source: string, opts: TranslateOptions = {}): RegExp {
  const js = translateGoRegexp(source);
  try {
    return new RegExp(js, `u${opts.flags ?? ''}`);
  } catch (e) {
    // A construct the translation lets through but JS rejects: report it like a Go parse error.
    throw new GoRegexpError(e instanceof Error ? e.message : String(e));
  }
}

/** The JS (`u`-flag) source equivalent to Go regexp `source`. */
export function translateGoRegexp(source: string): string {
  return new Translator(Array.from(source)).run();
}

const NAMED_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`\\{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** Characters that must be escaped in a JS `u` pattern outside a class. */
const JS_SYNTAX = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/']);
/** Characters that must be escaped inside a JS class. */
const JS_CLASS_SPECIAL = new Set(['\\', ']', '[', '^', '-']);

function isAsciiAlnum(c: string): boolean {
  return /^[0-9A-Za-z]$/.test(c);
}

function literal(c: string): string {
  return JS_SYNTAX.has(c) ? `\\${c}` : c;
}

function classLiteral(c: string): string {
  return JS_CLASS_SPECIAL.has(c) ? `\\${c}` : c;
}

/** A single character an escape stands for, or undefined when the escape is not a single character. */
function escapeChar(c: string): string | undefined {
  switch (c) {
    case 'a':
      return '\x07';
    case 'f':
      return '\f';
    case 't':
      return '\t';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 'v':
      return '\v';
    default:
      if (!isAsciiAlnum(c) && (c.codePointAt(0) ?? 0) < 0x80) return c; // escaped punctuation
      return undefined;
  }
}

class Translator {
  private pos = 0;
  private out = '';
  private depth = 0;
  /** Whether the last emitted item can take a repetition operator. */
  private canRepeat = false;

  constructor(private readonly src: readonly string[]) {}

  run(): string {
    while (this.pos < this.src.length) this.step();
    if (this.depth !== 0) throw new GoRegexpError('missing closing )');
    return this.out;
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  private step(): void {
    const c = this.src[this.pos++] ?? '';
    switch (c) {
      case '\\':
        this.escape();
        return;
      case '[':
        this.out += this.charClass();
        this.canRepeat = true;
        return;
      case '.':
        this.out += '[^\\n]';
        this.canRepeat = true;
        return;
      case '*':
      case '+':
      case '?':
        this.repeat(c);
        return;
      case '{': {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos - 1).join(''));
        if (m) {
          this.pos += m[0].length - 1;
          this.repeat(m[0]);
          return;
        }
        this.out += '\\{';
        this.canRepeat = true;
        return;
      }
      case '(':
        if (this.peek() === '?') throw new GoRegexpError('unsupported group flags');
        this.out += '(?:';
        this.depth++;
        this.canRepeat = false;
        return;
      case ')':
        if (this.depth === 0) throw new GoRegexpError('unexpected )');
        this.out += ')';
        this.depth--;
        this.canRepeat = true;
        return;
      case '|':
        this.out += '|';
        this.canRepeat = false;
        return;
      case '^':
      case '$':
        // JS cannot repeat an assertion; the generators never ask for it.
        this.out += c;
        this.canRepeat = false;
        return;
      default:
        this.out += literal(c);
        this.canRepeat = true;
    }
  }

  private repeat(op: string): void {
    if (!this.canRepeat) throw new GoRegexpError(`missing argument to repetition operator: ${op}`);
    this.out += op;
    if (this.peek() === '?') {
      this.out += '?';
      this.pos++;
    }
    // Go rejects `a**` ("invalid nested repetition operator").
    this.canRepeat = false;
  }

  private escape(): void {
    const c = this.src[this.pos++];
    if (c === undefined) throw new GoRegexpError('trailing backslash at end of expression');
    this.canRepeat = true;
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 'b':
      case 'B':
        this.out += `\\${c}`;
        if (c === 'b' || c === 'B') this.canRepeat = false;
        return;
      case 's':
        this.out += '[\\t\\n\\f\\r ]';
        return;
      case 'S':
        this.out += '[^\\t\\n\\f\\r ]';
        return;
      case 'A':
        this.out += '^';
        return;
      case 'z':
        this.out += '$';
        return;
      default: {
        const ch = escapeChar(c);
        if (ch === undefined) throw new GoRegexpError(`invalid escape sequence: \\${c}`);
        this.out += ch === c ? literal(c) : `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}`;
      }
    }
  }

  /** Parses a Go character class (the `[` is consumed) and returns the JS class. */
  private charClass(): string {
    let body = '';
    let negate = false;
    if (this.peek() === '^') {
      negate = true;
      this.pos++;
    }
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new GoRegexpError('missing closing ]');
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (c === '[' && this.peek(1) === ':') {
        const named = this.namedClass();
        if (named !== undefined) {
          body += named;
          continue;
        }
      }
      if (c === '\\') {
        const e = this.peek(1);
        if (e === 'd' || e === 'D' || e === 'w' || e === 'W') {
          body += `\\${e}`;
          this.pos += 2;
          continue;
        }
        if (e === 's') {
          body += '\\t\\n\\f\\r ';
          this.pos += 2;
          continue;
        }
      }
      const lo = this.classChar();
      let hi = lo;
      // `[a-]` means a or '-': a dash right before the closing bracket is literal.
      if (this.peek() === '-' && this.peek(1) !== undefined && this.peek(1) !== ']') {
        this.pos++;
        hi = this.classChar();
        if ((hi.codePointAt(0) ?? 0) < (lo.codePointAt(0) ?? 0)) {
          throw new GoRegexpError(`invalid character class range: ${lo}-${hi}`);
        }
      }
      body += lo === hi ? classLiteral(lo) : `${classLiteral(lo)}-${classLiteral(hi)}`;
    }
    return `[${negate ? '^' : ''}${body}]`;
  }

  /** `[:alpha:]` and friends; undefined when the text is not a named class (then `[` is literal). */
  private namedClass(): string | undefined {
    const rest = this.src.slice(this.pos).join('');
    const m = /^\[:(\^?)([a-z]*):\]/.exec(rest);
    if (!m) return undefined;
    const ranges = NAMED_CLASSES[m[2] ?? ''];
    if (ranges === undefined) throw new GoRegexpError(`invalid character class range: ${m[0]}`);
    if (m[1] === '^') throw new GoRegexpError(`unsupported negated named class: ${m[0]}`);
    this.pos += Array.from(m[0]).length;
    return ranges;
  }

  private classChar(): string {
    const c = this.src[this.pos++];
    if (c === undefined) throw new GoRegexpError('missing closing ]');
    if (c !== '\\') return c;
    const e = this.src[this.pos++];
    if (e === undefined) throw new GoRegexpError('trailing backslash at end of expression');
    const ch = escapeChar(e);
    if (ch === undefined) throw new GoRegexpError(`invalid escape sequence: \\${e}`);
    return ch;
  }
}
