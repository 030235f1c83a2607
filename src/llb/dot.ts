/**
 * Graphviz rendering of a definition: one box per vertex labelled with its progress name, edges
 * from inputs to the vertices that use them, vertices grouped into one cluster per build stage.
 */
import { vertexName } from './describe.js';
import type { LoadedDefinition, LLBVertex } from './types.js';

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

const SHAPE: Record<LLBVertex['op']['kind'], string> = {
  source: 'ellipse',
  exec: 'box',
  file: 'note',
  merge: 'invhouse',
};

export interface DotOptions {
  /** Graph title (shown at the top). */
  readonly title?: string;
}

export function renderDot(def: LoadedDefinition, opts: DotOptions = {}): string {
  const lines: string[] = ['digraph llb {', '  rankdir=TB;', '  node [fontname="Helvetica", fontsize=10];'];
  if (opts.title) lines.push(`  label=${quote(opts.title)};`, '  labelloc=t;');
  const byStage = new Map<string, LLBVertex[]>();
  const loose: LLBVertex[] = [];
  for (const v of def.vertices.values()) {
    const st = v.metadata.stage;
    if (st === '') loose.push(v);
    else byStage.set(st, [...(byStage.get(st) ?? []), v]);
  }
  const node = (v: LLBVertex, indent: string): string => {
    const label = `${vertexName(v)}\n${v.digest.slice(0, 19)}`;
    const extra = def.root?.digest === v.digest ? ', penwidth=2' : '';
    return `${indent}${quote(v.digest)} [label=${quote(label)}, shape=${SHAPE[v.op.kind]}${extra}];`;
  };
  let i = 0;
  for (const [stage, vs] of byStage) {
    lines.push(`  subgraph cluster_${i++} {`, `    label=${quote(`stage ${stage}`)};`, '    style=rounded;');
    for (const v of vs) lines.push(node(v, '    '));
    lines.push('  }');
  }
  for (const v of loose) lines.push(node(v, '  '));
  for (const v of def.vertices.values()) {
    v.inputs.forEach((inp, n) => {
      const label = v.inputs.length > 1 ? ` [label=${quote(String(n))}]` : '';
      lines.push(`  ${quote(inp.digest)} -> ${quote(v.digest)}${label};`);
    });
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
