/**
 * Typed instructions as JSON, for `tsbuild parse --format json` (shape: docs/parse-json.md). Every
 * instruction keeps its `kind`, `location` and `original` text plus its typed fields; the AST node
 * is left out (it is what `--format ast` prints).
 */
import type { DockerfileAST } from '../ast.js';
import type { Instruction, TypedDockerfile } from './instruction.js';

/** Version of the typed JSON shape; bumped on incompatible changes. */
export const TYPED_JSON_VERSION = 1;

export function instructionToJSON(ins: Instruction): Record<string, unknown> {
  const { node: _node, ...own } = ins;
  if (ins.kind === 'ONBUILD') return { ...own, trigger: instructionToJSON(ins.trigger) };
  return own;
}

export function typedDockerfileToJSON(t: TypedDockerfile, ast: DockerfileAST): string {
  return `${JSON.stringify({
    version: TYPED_JSON_VERSION,
    file: t.file,
    escapeToken: t.escapeToken,
    directives: ast.directives,
    warnings: ast.warnings,
    metaArgs: t.metaArgs.map(instructionToJSON),
    stages: t.stages.map((s) => ({
      index: s.index,
      name: s.name ?? null,
      from: instructionToJSON(s.from),
      commands: s.commands.map(instructionToJSON),
    })),
  }, null, 2)}\n`;
}
