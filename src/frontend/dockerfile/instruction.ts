/**
 * One logical line → one InstructionNode: Chevrotain lexes and parses the keyword, flags and
 * argument text, the visitor applies BuildKit's flag rules, and the line parsers split the
 * arguments. ONBUILD nests a whole instruction; nesting is unrolled in a loop (not recursion) so
 * that `ONBUILD ONBUILD …` thousands deep cannot exhaust the stack.
 */
import type { InstructionNode } from './ast.js';
import { parseTokens } from './cst-parser.js';
import { visitInstruction, type InstructionHeader } from './cst-visitor.js';
import { goToLower, goTrimSpace, isAsciiSeparator, isGoSpace } from './go-text.js';
import { ArgumentError, parseArguments } from './line-parsers.js';
import { instructionLexers } from './tokens.js';
import { INSTRUCTION_KINDS } from './instructions/instruction.js';
import { compactArray, EMPTY as NONE } from '../../util/compact-array.js';

/** Where the instruction being built sits in the file; offsets are in its logical line. */
export interface InstructionSite {
  readonly startLine: number;
  readonly endLine: number;
  /** 1-based column of an offset of the logical line. */
  columnAt(offset: number): number;
  /** Reports a syntax error at an offset of the logical line; never returns. */
  failAt(message: string, offset: number): never;
}

/** Splits one line into keyword, flags and argument text (offsets relative to `text`). */
export function splitInstruction(text: string, escape: '\\' | '`'): InstructionHeader {
  let start = 0;
  let end = text.length;
  while (start < end && isGoSpace(text.charCodeAt(start))) start++;
  while (end > start && isGoSpace(text.charCodeAt(end - 1))) end--;
  const trimmed = start === 0 && end === text.length ? text : text.slice(start, end);
  return splitPlain(trimmed, start) ?? splitWithParser(trimmed, escape, start);
}

/** The split by the Chevrotain lexer and grammar (any line); `shift` is added to every offset. */
export function splitWithParser(trimmed: string, escape: '\\' | '`', shift: number): InstructionHeader {
  const lexed = instructionLexers[escape].tokenize(trimmed);
  // The lexer modes cover every character and every token sequence fits the grammar; a failure
  // here is a bug in tokens.ts/cst-parser.ts, not bad input.
  if (lexed.errors.length > 0) throw new Error(`internal: instruction lexer failed on ${JSON.stringify(trimmed)}`);
  const cst = parseTokens(lexed.tokens, 'instruction');
  if (!cst) throw new Error(`internal: instruction grammar rejected ${JSON.stringify(trimmed)}`);
  return visitInstruction(cst, trimmed, escape, shift);
}

/**
 * The instruction keywords as they are usually written (upper and lower case): a node's keyword
 * is the shared constant instead of a fresh slice per instruction that lived through the build.
 */
const KEYWORDS = new Map(INSTRUCTION_KINDS.flatMap((k) => [[k, k], [k.toLowerCase(), k.toLowerCase()]]));

/** Characters that make a flag word need the grammar's quote and escape handling. */
const QUOTE_OR_ESCAPE = /["'\\`]/;

/**
 * The split of a line whose flag words (if any) have no quotes or escapes, the usual case, without
 * the lexer and parser (their tokens and CST nodes were most of parse time and a large share of
 * the garbage); undefined for other lines. It is what the grammar yields for such lines: the
 * keyword runs to the first `[\t\v\f\r ]`; then words separated by Go spaces that start with
 * `--` are flags, taken as written, a bare `--` ending them; the rest is the arguments.
 */
export function splitPlain(trimmed: string, shift: number): InstructionHeader | undefined {
  const n = trimmed.length;
  if (n === 0) return undefined;
  let i = 0;
  while (i < n && !isAsciiSeparator(trimmed.charCodeAt(i))) i++;
  if (i === n) return { keyword: trimmed, keywordOffset: shift, flags: [], args: '', argsOffset: n + shift };
  // Made at the first flag: most lines have none, and an empty array per line was garbage.
  let flags: string[] | undefined;
  let j = i;
  for (;;) {
    while (j < n && isGoSpace(trimmed.charCodeAt(j))) j++;
    if (!trimmed.startsWith('--', j)) break;
    let end = j + 2;
    while (end < n && !isGoSpace(trimmed.charCodeAt(end))) end++;
    const word = trimmed.slice(j, end);
    if (QUOTE_OR_ESCAPE.test(word)) return undefined;
    j = end;
    if (word === '--') {
      while (j < n && isGoSpace(trimmed.charCodeAt(j))) j++;
      break;
    }
    (flags ??= []).push(word);
  }
  const keyword = trimmed.slice(0, i);
  return { keyword: KEYWORDS.get(keyword) ?? keyword, keywordOffset: shift, flags: flags === undefined ? NONE : compactArray(flags), args: goTrimSpace(trimmed.slice(j)), argsOffset: j + shift };
}

/** A node under construction; the parser fills in heredocs and comments before handing it out. */
export type MutableInstructionNode = { -readonly [K in keyof InstructionNode]: InstructionNode[K] };

/** Builds the node for a logical line (heredoc bodies and comments are added by the caller). */
export function buildInstruction(text: string, escape: '\\' | '`', place: InstructionSite): MutableInstructionNode {
  let header = splitInstruction(text, escape);
  let lower = goToLower(header.keyword);
  if (lower !== 'onbuild' || header.args === '') return leafNode(header, lower, 0, text, escape, place);

  // Unroll ONBUILD nesting: chain[0] is the outermost instruction.
  const chain: Array<{ header: InstructionHeader; base: number; original: string }> = [];
  let line = text;
  let base = 0;
  while (lower === 'onbuild' && header.args !== '') {
    chain.push({ header, base, original: line });
    base += header.argsOffset;
    line = header.args;
    header = splitInstruction(line, escape);
    lower = goToLower(header.keyword);
  }
  let node = leafNode(header, lower, base, line, escape, place);
  for (let k = chain.length - 1; k >= 0; k--) {
    const outer = chain[k] as (typeof chain)[number];
    node = {
      keyword: outer.header.keyword,
      flags: outer.header.flags,
      args: [],
      onbuild: node,
      json: false,
      original: outer.original,
      startLine: place.startLine,
      endLine: place.endLine,
      column: place.columnAt(outer.base + outer.header.keywordOffset),
      heredocs: NONE,
      comments: NONE,
    };
  }
  return node;
}

function leafNode(
  header: InstructionHeader, lower: string, base: number, original: string, escape: '\\' | '`', place: InstructionSite,
): MutableInstructionNode {
  let parsed;
  try {
    parsed = parseArguments(lower, header.args, escape);
  } catch (e) {
    if (e instanceof ArgumentError) place.failAt(e.message, base + header.argsOffset + e.offset);
    throw e;
  }
  return {
    keyword: header.keyword,
    flags: header.flags,
    args: compactArray(parsed.args),
    json: parsed.json,
    original,
    startLine: place.startLine,
    endLine: place.endLine,
    column: place.columnAt(base + header.keywordOffset),
    heredocs: NONE,
    comments: NONE,
  };
}

/** RUN, COPY and ADD in shell form may carry heredocs, also directly under ONBUILD. */
export function canContainHeredoc(node: InstructionNode): boolean {
  let n = node;
  if (goToLower(n.keyword) === 'onbuild' && n.onbuild) n = n.onbuild;
  const kw = goToLower(n.keyword);
  return (kw === 'run' || kw === 'copy' || kw === 'add') && !n.json;
}
