/**
 * A whole AST → typed instructions grouped into stages: ARGs before the first FROM are the meta
 * args, every FROM opens a stage, stage names are unique. All instructions of all stages are typed
 * (so a typo in an unused stage still fails, as in Docker); expansion happens later, per stage.
 */
import { Pacer } from '../../../util/yield.js';
import type { DockerfileAST, InstructionNode } from '../ast.js';
import { Diagnostics, fail } from './diagnostics.js';
import type { ArgInstruction, FromInstruction, StageCommand, StageDef, TypedDockerfile } from './instruction.js';
import { parseInstruction } from './parse-instruction.js';
import { siteOf } from './site.js';
import type { ParseContext } from './site.js';

interface OpenStage {
  readonly from: FromInstruction;
  readonly commands: StageCommand[];
}

/** Groups typed instructions into stages as they come (one `add` per AST node, in order). */
class StageCollector {
  private readonly ctx: ParseContext;
  private readonly metaArgs: ArgInstruction[] = [];
  private readonly open: OpenStage[] = [];
  private readonly names = new Map<string, FromInstruction>();

  constructor(private readonly ast: DockerfileAST) {
    this.ctx = { file: ast.file, lines: ast.lines };
  }

  add(node: InstructionNode): void {
    const ctx = this.ctx;
    const ins = parseInstruction(node, ctx);
    if (ins.kind === 'FROM') {
      if (ins.stageName !== undefined) {
        const prev = this.names.get(ins.stageName);
        if (prev) fail(Diagnostics.duplicateStage, [ins.stageName, prev.location.line], siteOf(node, ctx), ins.node.args[2]);
        this.names.set(ins.stageName, ins);
      }
      this.open.push({ from: ins, commands: [] });
      return;
    }
    const cur = this.open[this.open.length - 1];
    if (!cur) {
      if (ins.kind === 'ARG') { this.metaArgs.push(ins); return; }
      fail(Diagnostics.noStage, [ins.kind], siteOf(node, ctx), node.keyword);
    }
    cur.commands.push(ins);
  }

  finish(): TypedDockerfile {
    const stages: StageDef[] = this.open.map((s, index) => ({ index, from: s.from, name: s.from.stageName, commands: s.commands }));
    const ast = this.ast;
    return { metaArgs: this.metaArgs, stages, file: ast.file, lines: ast.lines, escapeToken: ast.escapeToken };
  }
}

export function parseInstructions(ast: DockerfileAST): TypedDockerfile {
  const c = new StageCollector(ast);
  for (const node of ast.children) c.add(node);
  return c.finish();
}

/**
 * `parseInstructions` that gives the event loop a turn every few thousand instructions and stops
 * with a CancelledError once `signal` aborts (typing 200,000 instructions takes seconds).
 */
export async function parseInstructionsAsync(ast: DockerfileAST, signal: AbortSignal | undefined): Promise<TypedDockerfile> {
  const c = new StageCollector(ast);
  const pacer = new Pacer(signal);
  // An index loop: the iterator of a for-of across an await made a result object per instruction.
  const nodes = ast.children;
  for (let i = 0; i < nodes.length; i++) {
    c.add(nodes[i] as InstructionNode);
    if (pacer.due()) await pacer.pause();
  }
  return c.finish();
}
