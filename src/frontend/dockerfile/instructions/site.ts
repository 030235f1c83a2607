/** Shared helpers for the per-instruction parsers: error sites, base fields, argument checks. */
import type { InstructionNode } from '../ast.js';
import type { SourceLocation } from '../../../util/errors.js';
import { Diagnostics, fail } from './diagnostics.js';
import type { ErrorSite } from './diagnostics.js';
import type { CommandLine } from './instruction.js';

/** The file an instruction comes from (name for messages, lines for the source line). */
export interface ParseContext {
  readonly file: string;
  readonly lines: readonly string[];
}

export function siteOf(node: InstructionNode, ctx: ParseContext): ErrorSite {
  return { file: ctx.file, lines: ctx.lines, line: node.startLine, column: node.column, endLine: node.endLine };
}

export function locationOf(node: InstructionNode, ctx: ParseContext): SourceLocation {
  return node.endLine !== node.startLine
    ? { file: ctx.file, line: node.startLine, column: node.column, endLine: node.endLine }
    : { file: ctx.file, line: node.startLine, column: node.column };
}

/**
 * The fields every typed instruction starts with. The parsers write them out in their literals
 * (`location: locationOf(node, ctx), original: node.original.trim(), node`) rather than spreading
 * this in: a spread builds the literal property by property, for every instruction.
 */
export function baseOf(node: InstructionNode, ctx: ParseContext): { location: SourceLocation; original: string; node: InstructionNode } {
  return { location: locationOf(node, ctx), original: node.original.trim(), node };
}

export function exactlyOne(node: InstructionNode, kind: string, site: ErrorSite): string {
  if (node.args.length !== 1) fail(Diagnostics.badArguments, [`${kind} requires exactly one argument`], site);
  return node.args[0] as string;
}

export function atLeastOne(node: InstructionNode, kind: string, site: ErrorSite): void {
  if (node.args.length === 0) fail(Diagnostics.badArguments, [`${kind} requires at least one argument`], site);
}

/**
 * BuildKit's handleJSONArgs: exec form keeps the elements, shell form is one string. The node's
 * own (read-only) list is shared where it already is that: a copy per RUN/CMD lived as long.
 */
export function commandLine(node: InstructionNode): CommandLine {
  return node.json ? { form: 'exec', args: node.args } : { form: 'shell', args: node.args.length <= 1 ? node.args : [node.args.join(' ')] };
}

/** Characters that make shell-word processing change a value. */
const SHELL_SPECIAL = /[$"'\\`]/;

/**
 * True when a value means the same before and after shell-word processing (no `$`, quotes or
 * escapes), so it can be validated when typed; other values are validated after expansion.
 */
export function isLiteral(value: string): boolean {
  return !SHELL_SPECIAL.test(value);
}
