/**
 * The physical-line pass over a whole Dockerfile, following BuildKit's `Parse` loop: BOM, parser
 * directives, comments, continuation lines (with the empty-continuation warning), then one
 * instruction per logical line and, for instructions that may carry them, heredoc bodies read
 * from the following physical lines. Everything that is not context-free lives here; each logical
 * line is handed to the Chevrotain-based instruction parser (instruction.ts).
 */
import { Pacer } from '../../util/yield.js';
import type { Directive, DockerfileAST, Heredoc, InstructionNode, ParseWarning } from './ast.js';
import { DirectiveError, DirectiveParser } from './directives.js';
import { codePointLength, goTrimLeftSpace, goTrimSpace, isGoSpace } from './go-text.js';
import { heredocsFromLine } from './heredoc.js';
import { ShellSyntaxError } from './heredoc-lexer.js';
import { buildInstruction, canContainHeredoc, type InstructionSite } from './instruction.js';
import { LogicalLine } from './logical-line.js';
import { utf8ByteLength } from '../../util/utf8-lossless.js';
import { UserInputError } from '../../util/errors.js';
import { compactArray } from '../../util/compact-array.js';

/** BuildKit reads lines with a bufio.Scanner, whose 64 KiB token limit makes longer lines errors. */
export const MAX_LINE_BYTES = 65535;
/** Error code of every Dockerfile syntax error. */
export const PARSE_ERROR_CODE = 'DOCKERFILE_PARSE';
const EMPTY_CONTINUATION_URL = 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/';
/** Longest source line shown under an error message. */
const MAX_SHOWN_LINE = 512;

export interface SourceText {
  /** The decoded text (see utf8-lossless). */
  readonly text: string;
  readonly file: string;
}

/** Go's `bytes.TrimRight(line, "\r\n")` (lines are already split on `\n`). */
function trimNewline(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x0d) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** BuildKit's isComment: the first non-blank character is `#`. */
function isComment(s: string): boolean {
  let i = 0;
  while (i < s.length && isGoSpace(s.charCodeAt(i))) i++;
  return s.charCodeAt(i) === 0x23;
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isGoSpace(s.charCodeAt(i))) return false;
  return true;
}

/**
 * Where a trailing continuation escape (and the blanks after it) starts, as BuildKit's
 * `([^E])E[ \t]*$|^E[ \t]*$` → `$1`; -1 when the line does not continue (an escaped escape, `\\`,
 * at the end does not continue).
 */
function continuationCut(s: string, escape: string): number {
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x09)) end--;
  if (end === 0 || s[end - 1] !== escape) return -1;
  if (end > 1 && s[end - 2] === escape) return -1;
  return end - 1;
}

/**
 * `lines.join('\n')` of the `lines` of ASTs made here whose text had no `\r` (the text itself, less
 * a BOM and the last newline): the definition carries the Dockerfile as its source, and joining
 * 10,000 lines again took as long as encoding them.
 */
const joinedText = new WeakMap<readonly string[], string>();

/** `lines.join('\n')`, for the `lines` of a parsed AST without joining them again. */
export function joinedLines(lines: readonly string[]): string {
  return joinedText.get(lines) ?? lines.join('\n');
}

export class FileParser implements InstructionSite {
  private readonly lines: string[];
  private readonly finalNewline: boolean;
  private next = 0;
  /** Bytes of a UTF-8 BOM removed from line 1 (they still count toward its length limit). */
  private bomBytes = 0;
  private escape: '\\' | '`' = '\\';
  private readonly directiveParser = new DirectiveParser();
  private readonly directives: Directive[] = [];
  private readonly warnings: ParseWarning[] = [];
  private readonly children: InstructionNode[] = [];
  private comments: string[] = [];
  /** The logical line of the instruction being parsed. */
  private current = new LogicalLine(1, '', 0);
  /** Lines known to contain (true) or not contain (false) surrogate pairs. */
  private readonly astralLines = new Map<number, boolean>();

  constructor(private readonly src: SourceText) {
    const lines = src.text.split('\n');
    this.finalNewline = lines.length > 1 && lines[lines.length - 1] === '';
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines[0]?.startsWith('\ufeff')) {
      lines[0] = lines[0].slice(1);
      this.bomBytes = 3;
    }
    this.lines = lines;
  }

  parse(): DockerfileAST {
    while (this.next < this.lines.length) this.parseInstructionAt(this.next);
    return this.finish();
  }

  /** `parse()` that lets the event loop run every few thousand instructions (signals, aborts). */
  async parseAsync(signal: AbortSignal | undefined): Promise<DockerfileAST> {
    const pacer = new Pacer(signal);
    while (this.next < this.lines.length) {
      this.parseInstructionAt(this.next);
      if (pacer.due()) await pacer.pause();
    }
    return this.finish();
  }

  private finish(): DockerfileAST {
    if (this.children.length === 0) {
      const last = Math.max(1, this.lines.length);
      this.fail('file with no instructions', last, 0);
    }
    const text = this.src.text;
    let lines: readonly string[];
    if (text.includes('\r')) {
      lines = this.lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    } else {
      lines = this.lines;
      // The constructor split the text on '\n', dropped a last empty line and a BOM.
      const end = text.endsWith('\n') ? text.length - 1 : text.length;
      joinedText.set(lines, text.slice(this.bomBytes > 0 ? 1 : 0, Math.max(0, end)));
    }
    return {
      children: this.children,
      directives: this.directives,
      escapeToken: this.escape,
      warnings: this.warnings,
      file: this.src.file,
      lines,
    };
  }

  /** Reads the physical line at `this.next` (BuildKit fails on lines over 64 KiB when reading). */
  private read(): string {
    const n = this.next++;
    const line = this.lines[n] as string;
    if (line.length > MAX_LINE_BYTES / 3 - 1 && utf8ByteLength(line) + (n === 0 ? this.bomBytes : 0) > MAX_LINE_BYTES) {
      this.fail(`dockerfile line greater than max allowed size of ${MAX_LINE_BYTES}`, n + 1, 0);
    }
    return line;
  }

  private parseInstructionAt(index: number): void {
    const lineNo = index + 1;
    const raw = this.read();
    const rawIsComment = isComment(raw);
    if (rawIsComment) {
      const c = goTrimSpace(goTrimLeftSpace(raw).slice(1));
      if (c === '') this.comments = [];
      else this.comments.push(c);
    }
    const untrimmed = trimNewline(raw);
    let t = goTrimLeftSpace(untrimmed);
    const lead = untrimmed.length - t.length;
    this.directive(t, lineNo, lead, rawIsComment);
    if (isComment(t)) t = '';
    let cut = continuationCut(t, this.escape);
    if (cut < 0 && t === '') return;

    const logical = new LogicalLine(lineNo, cut < 0 ? t : t.slice(0, cut), lead);
    let firstEmpty: number | undefined;
    while (cut >= 0 && this.next < this.lines.length) {
      const n = this.next + 1;
      const r = this.read();
      if (isComment(r)) continue;
      const p = trimNewline(r);
      if (isBlank(p)) {
        firstEmpty ??= n;
        continue;
      }
      cut = continuationCut(p, this.escape);
      logical.append(cut < 0 ? p : p.slice(0, cut), n);
    }
    logical.endLine = this.next;
    if (firstEmpty !== undefined) {
      this.warnings.push({
        message: `Empty continuation line found in: ${logical.text}`,
        line: firstEmpty,
        code: 'NoEmptyContinuation',
        url: EMPTY_CONTINUATION_URL,
      });
    }

    this.current = logical;
    const node = buildInstruction(logical.text, this.escape, this);

    if (logical.text.includes('<<') && canContainHeredoc(node)) {
      let markers;
      try {
        markers = heredocsFromLine(logical.text);
      } catch (e) {
        if (e instanceof ShellSyntaxError) this.failAt(e.message, Math.max(0, logical.text.indexOf('<<')));
        throw e;
      }
      if (markers.length > 0) {
        const heredocs: Heredoc[] = [];
        let searchFrom = 0;
        for (const m of markers) {
          const at = logical.text.indexOf('<<', searchFrom);
          searchFrom = at < 0 ? searchFrom : at + 2;
          const unterminated = (): never => this.failAt(`unterminated heredoc: no line ${JSON.stringify(m.name)} ends it before the end of the file`, Math.max(0, at));
          // Fields written out: a spread gave each heredoc a separate property store for `content`.
          heredocs.push({ name: m.name, fileDescriptor: m.fileDescriptor, expand: m.expand, chomp: m.chomp, content: this.readHeredocBody(m.name, m.chomp, unterminated) });
        }
        node.heredocs = compactArray(heredocs);
        node.endLine = this.next;
      }
    }
    if (this.comments.length > 0) {
      node.comments = this.comments;
      this.comments = [];
    }
    this.children.push(node);
  }

  /** Collects body lines (with their own line endings) up to the terminator line. */
  private readHeredocBody(name: string, chomp: boolean, unterminated: () => never): string {
    // The lines and their terminators joined once: `+=` per line made a rope of ~2 objects per
    // line that the node kept through the whole conversion, for the collector to copy.
    const parts: string[] = [];
    while (this.next < this.lines.length) {
      const isLast = this.next === this.lines.length - 1;
      const raw = this.read();
      let candidate = trimNewline(raw);
      if (chomp) candidate = candidate.replace(/^\t+/, '');
      if (candidate === name) return parts.length === 0 ? '' : parts.join('');
      parts.push(raw);
      if (!(isLast && !this.finalNewline)) parts.push('\n');
    }
    return unterminated();
  }

  private directive(t: string, lineNo: number, lead: number, rawIsComment: boolean): void {
    if (this.directiveParser.finished) return;
    try {
      const d = this.directiveParser.parseLine(t);
      if (!d) return;
      this.directives.push({ name: d.name, value: d.value, line: lineNo });
      // A directive is not a comment of the instruction below it.
      if (rawIsComment) this.comments.pop();
      if (d.name === 'escape') this.escape = d.value as '\\' | '`';
    } catch (e) {
      if (e instanceof DirectiveError) this.fail(e.message, lineNo, lead + e.index);
      throw e;
    }
  }

  // ---- InstructionSite, for the instruction being parsed (this.current) ----

  get startLine(): number {
    return this.current.startLine;
  }

  get endLine(): number {
    return this.current.endLine;
  }

  columnAt(offset: number): number {
    const pos = this.current.locate(offset);
    return this.column(pos.line, pos.index);
  }

  failAt(message: string, offset: number): never {
    const pos = this.current.locate(offset);
    return this.fail(message, pos.line, pos.index, this.current.endLine);
  }

  /** 1-based column (in code points) of a UTF-16 index of a physical line. */
  private column(lineNo: number, index: number): number {
    if (index === 0) return 1;
    // Most lines have no surrogate pairs, where index + 1 is the answer; remember which do, so
    // that many columns on one long line (ONBUILD chains) stay linear.
    let astral = this.astralLines.get(lineNo);
    if (astral === undefined) {
      astral = /[\ud800-\udbff]/.test(this.displayLine(lineNo));
      this.astralLines.set(lineNo, astral);
    }
    return astral ? codePointLength(this.displayLine(lineNo).slice(0, index)) + 1 : index + 1;
  }

  /** The physical line as shown to the user: no terminator (the BOM is already gone). */
  private displayLine(lineNo: number): string {
    const l = this.lines[lineNo - 1] ?? '';
    return l.endsWith('\r') ? l.slice(0, -1) : l;
  }

  private fail(message: string, lineNo: number, index: number, endLine?: number): never {
    let shown = this.displayLine(lineNo);
    const column = this.column(lineNo, index);
    if (shown.length > MAX_SHOWN_LINE && index < MAX_SHOWN_LINE) shown = `${shown.slice(0, MAX_SHOWN_LINE)}…`;
    throw new UserInputError(PARSE_ERROR_CODE, message, {
      location: {
        file: this.src.file,
        line: lineNo,
        column,
        ...(endLine !== undefined && endLine > lineNo ? { endLine } : {}),
      },
      sourceLine: shown,
    });
  }
}
