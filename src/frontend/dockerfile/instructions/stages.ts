/**
 * A whole AST → typed instructions grouped into stages: ARGs before the first FROM are the meta
 * args, every FROM opens a stage, stage names are unique. All instructions of all stages are typed
 * (so a typo in an unused stage still fails, as in Docker); expansion happens later, per stage.
 */
import type { DockerfileAST } from '../ast.js';
import { Diagnostics, fail } from './diagnostics.js';
import type { ArgInstruction, FromInstruction, StageCommand, StageDef, TypedDockerfile } from './instruction.js';
import { parseInstruction } from './parse-instruction.js';
import { siteOf } from './site.js';
import type { ParseContext } from './site.js';

interface OpenStage {
  readonly from: FromInstruction;
  readonly commands: StageCommand[];
}

export function parseInstructions(ast: DockerfileAST): TypedDockerfile {
  const ctx: ParseContext = { file: ast.file, lines: ast.lines };
  const metaArgs: ArgInstruction[] = [];
  const open: OpenStage[] = [];
  const names = new Map<string, FromInstruction>();
  for (const node of ast.children) {
    const ins = parseInstruction(node, ctx);
    if (ins.kind === 'FROM') {
      if (ins.stageName !== undefined) {
        const prev = names.get(ins.stageName);
        if (prev) fail(Diagnostics.duplicateStage, [ins.stageName, prev.location.line], siteOf(node, ctx), ins.node.args[2]);
        names.set(ins.stageName, ins);
      }
      open.push({ from: ins, commands: [] });
      continue;
    }
    const cur = open[open.length - 1];
    if (!cur) {
      if (ins.kind === 'ARG') { metaArgs.push(ins); continue; }
      fail(Diagnostics.noStage, [ins.kind], siteOf(node, ctx), node.keyword);
    }
    cur.commands.push(ins);
  }
  const stages: StageDef[] = open.map((s, index) => ({ index, from: s.from, name: s.from.stageName, commands: s.commands }));
  return { metaArgs, stages, file: ast.file, lines: ast.lines, escapeToken: ast.escapeToken };
}
