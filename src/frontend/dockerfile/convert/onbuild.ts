/**
 * ONBUILD triggers firing in a downstream build: the base image config's `OnBuild` list (through
 * the image resolver) or the ONBUILD instructions of a base stage. Each trigger is parsed and typed
 * as if it were written right after FROM, and located there for errors.
 */
import { isTsbuildError } from '../../../util/errors.js';
import type { InstructionNode } from '../ast.js';
import { parseDockerfile } from '../parse.js';
import { Diagnostics, fail } from '../instructions/diagnostics.js';
import type { FromInstruction, StageCommand } from '../instructions/instruction.js';
import { parseInstruction } from '../instructions/parse-instruction.js';
import { siteOf } from '../instructions/site.js';
import type { ParseContext } from '../instructions/site.js';

export function parseTriggers(triggers: readonly string[], from: FromInstruction, ctx: ParseContext): StageCommand[] {
  const at = siteOf(from.node, ctx);
  return triggers.map((text) => {
    let node: InstructionNode;
    try {
      const ast = parseDockerfile(text, { file: ctx.file });
      if (ast.children.length !== 1) fail(Diagnostics.badOnbuild, [`ONBUILD trigger ${JSON.stringify(text)} from the base image must be a single instruction`], at);
      node = ast.children[0] as InstructionNode;
    } catch (e) {
      if (isTsbuildError(e) && e.code === 'DOCKERFILE_BAD_ONBUILD') throw e;
      return fail(Diagnostics.badOnbuild, [`invalid ONBUILD trigger ${JSON.stringify(text)} from the base image: ${isTsbuildError(e) ? e.message : String(e)}`], at);
    }
    const kw = node.keyword.toUpperCase();
    if (kw === 'ONBUILD' || kw === 'FROM' || kw === 'MAINTAINER') {
      fail(Diagnostics.badOnbuild, [`${kw} isn't allowed as an ONBUILD trigger (from the base image)`], at);
    }
    // Located at the FROM that fires it.
    const placed: InstructionNode = { ...node, startLine: from.node.startLine, endLine: from.node.endLine, column: from.node.column };
    return parseInstruction(placed, ctx) as StageCommand;
  });
}
