/**
 * The CST visitor: turns a parsed instruction line into its keyword, BuildKit-style raw flags and
 * argument text, and a parsed exec-form array into its elements. Kept apart from the grammar as
 * Chevrotain recommends, so the grammar stays free of semantic actions.
 */
import type { CstNode } from 'chevrotain';
import { cstParser } from './cst-parser.js';
import type {
  FlagSectionCstChildren, InstructionCstChildren, JsonArrayCstChildren, JsonValueCstChildren,
} from './cst-types.js';
import { goTrimSpace, isGoSpace } from './go-text.js';

/** An instruction line split the way BuildKit's `splitCommand` splits it. */
export interface InstructionHeader {
  /** The keyword exactly as written. */
  readonly keyword: string;
  /** Offset of the keyword in the lexed text. */
  readonly keywordOffset: number;
  /** Leading `--flag` words with quotes and escapes processed. */
  readonly flags: readonly string[];
  /** The arguments after the flags, trimmed (Go's TrimSpace). */
  readonly args: string;
  /** Offset of `args` in the lexed text. */
  readonly argsOffset: number;
}

/** One top-level element of an exec-form array. */
export type ExecElement =
  | { readonly kind: 'string'; readonly image: string; readonly offset: number }
  | { readonly kind: 'other'; readonly offset: number };

interface LineParam {
  readonly text: string;
  readonly escape: '\\' | '`';
  /** Added to every offset reported (where `text` starts in the caller's string). */
  readonly shift: number;
}

const BaseVisitor = cstParser.getBaseCstVisitorConstructor();

class DockerfileCstVisitor extends BaseVisitor {
  constructor() {
    super();
    this.validateVisitor();
  }

  instruction(ctx: InstructionCstChildren, p: LineParam): InstructionHeader {
    const kw = ctx.Keyword?.[0];
    const section = ctx.flagSection?.[0];
    const rest = section ? (this.visit(section, p) as Omit<InstructionHeader, 'keyword' | 'keywordOffset'>) : undefined;
    return {
      keyword: kw ? kw.image : '',
      keywordOffset: (kw ? kw.startOffset : 0) + p.shift,
      flags: rest?.flags ?? [],
      args: rest?.args ?? '',
      argsOffset: (rest?.argsOffset ?? p.text.length) + p.shift,
    };
  }

  flagSection(ctx: FlagSectionCstChildren, p: LineParam): Omit<InstructionHeader, 'keyword' | 'keywordOffset'> {
    const flags: string[] = [];
    for (const t of ctx.FlagWord ?? []) {
      const value = unquoteFlagWord(t.image, p.escape);
      // A bare `--` ends the flags; everything after it is arguments, even `--x` words.
      if (value === '--') return withArgs(flags, p.text, t.startOffset + t.image.length);
      flags.push(value);
    }
    const rest = ctx.RestOfLine?.[0];
    return withArgs(flags, p.text, rest ? rest.startOffset : p.text.length);
  }

  jsonArray(ctx: JsonArrayCstChildren): ExecElement[] {
    return (ctx.jsonValue ?? []).map((v) => {
      const s = v.children.JsonString?.[0];
      if (s) return { kind: 'string', image: s.image, offset: s.startOffset };
      return { kind: 'other', offset: firstOffset(v.children) };
    });
  }

  // Nested JSON values only need to be well-formed; their content is never used.
  jsonValue(): undefined { return undefined; }
  jsonObject(): undefined { return undefined; }
  jsonMember(): undefined { return undefined; }
}

function withArgs(flags: string[], text: string, from: number): Omit<InstructionHeader, 'keyword' | 'keywordOffset'> {
  let start = from;
  while (start < text.length && isGoSpace(text.charCodeAt(start))) start++;
  return { flags, args: goTrimSpace(text.slice(start)), argsOffset: start };
}

/**
 * BuildKit's flag-word processing: quotes are removed, the escape token escapes the next character
 * inside and outside quotes (in both quote styles), a lone escape token at the end is dropped.
 */
function unquoteFlagWord(image: string, escape: string): string {
  if (!/["'\\`]/.test(image)) return image;
  let out = '';
  let quote = '';
  for (let i = 0; i < image.length; i++) {
    const c = image[i] as string;
    if (c === escape) {
      if (i + 1 < image.length) out += image[++i] as string;
    } else if (quote !== '') {
      if (c === quote) quote = '';
      else out += c;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else {
      out += c;
    }
  }
  return out;
}

/** Offset of a non-string value: its scalar token, or the `[`/`{` opening it. */
function firstOffset(v: JsonValueCstChildren): number {
  const tok = v.JsonNumber?.[0] ?? v.JsonTrue?.[0] ?? v.JsonFalse?.[0] ?? v.JsonNull?.[0]
    ?? v.jsonArray?.[0]?.children.LBracket[0] ?? v.jsonObject?.[0]?.children.LBrace[0];
  return tok ? tok.startOffset : 0;
}

/** The one visitor instance (stateless). */
export const cstVisitor = new DockerfileCstVisitor();

/** Runs the visitor on an instruction CST. */
export function visitInstruction(cst: CstNode, text: string, escape: '\\' | '`', shift: number): InstructionHeader {
  return cstVisitor.visit(cst, { text, escape, shift } satisfies LineParam) as InstructionHeader;
}

/** Runs the visitor on a top-level exec-form array CST. */
export function visitExecForm(cst: CstNode): ExecElement[] {
  return cstVisitor.visit(cst) as ExecElement[];
}
