/**
 * The JSON form of the AST printed by `tsbuild parse --format json` (shape: docs/parse-json.md).
 * Top-level fields are pretty-printed and each instruction takes one line. ONBUILD chains are
 * serialized in a loop: JSON.stringify recurses and would overflow on `ONBUILD ONBUILD …` chains
 * thousands deep.
 */
import type { DockerfileAST, InstructionNode } from './ast.js';

/** Version of the JSON shape; bumped on incompatible changes. */
export const AST_JSON_VERSION = 1;

/** One instruction as a single-line JSON object (nested ONBUILD instructions included). */
export function instructionToJson(node: InstructionNode): string {
  const chain: InstructionNode[] = [];
  for (let n: InstructionNode | undefined = node; n; n = n.onbuild) chain.push(n);
  const parts = chain.map((n) => {
    const { onbuild: _nested, ...own } = n;
    return JSON.stringify(own);
  });
  if (parts.length === 1) return parts[0] as string;
  // Splice each level into its parent: `{...,"onbuild":{...}}`.
  let out = '';
  for (let k = 0; k < parts.length - 1; k++) out += `${(parts[k] as string).slice(0, -1)},"onbuild":`;
  return `${out}${parts[parts.length - 1] as string}${'}'.repeat(parts.length - 1)}`;
}

/** The whole AST (without the copy of the source lines), ending with a newline. */
export function astToJson(ast: DockerfileAST): string {
  const field = (k: string, v: unknown): string => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`;
  const children = ast.children.map((c) => `    ${instructionToJson(c)}`);
  return [
    '{',
    `${field('version', AST_JSON_VERSION)},`,
    `${field('file', ast.file)},`,
    `${field('escapeToken', ast.escapeToken)},`,
    `${field('directives', ast.directives)},`,
    `${field('warnings', ast.warnings)},`,
    children.length === 0 ? '  "children": []' : `  "children": [\n${children.join(',\n')}\n  ]`,
    '}',
    '',
  ].join('\n');
}
