/**
 * BuildKit's AST dump (`Node.Dump()`), the format of its parser golden files and of
 * `tsbuild parse --format dump`: one `(keyword ["flags"] "arg" …)` line per instruction, ONBUILD
 * nesting its instruction in parentheses, heredoc bodies left out.
 */
import type { DockerfileAST, InstructionNode } from './ast.js';
import { goQuote, goToLower, goTrimSpace } from './go-text.js';

/** The dump of one instruction, without the surrounding parentheses. */
export function dumpInstruction(node: InstructionNode): string {
  // ONBUILD chains are walked in a loop (deep nesting must not recurse) and joined once (repeated
  // concatenation and trimming would be quadratic). An ONBUILD head never needs trimming.
  const heads: string[] = [];
  let n: InstructionNode = node;
  while (n.onbuild) {
    heads.push(`${head(n)} (`);
    n = n.onbuild;
  }
  let leaf = head(n);
  for (const a of n.args) leaf += ` ${goQuote(a)}`;
  leaf = goTrimSpace(leaf);
  return heads.length === 0 ? leaf : `${heads.join('')}${leaf}${')'.repeat(heads.length)}`;
}

function head(n: InstructionNode): string {
  let s = goToLower(n.keyword);
  if (n.flags.length > 0) s += ` [${n.flags.map(goQuote).join(' ')}]`;
  return s;
}

/** The whole dump, one instruction per line, ending with one `\n`. */
export function dumpAST(ast: DockerfileAST): string {
  let out = '';
  for (const c of ast.children) out += `(${dumpInstruction(c)})\n`;
  return out;
}
