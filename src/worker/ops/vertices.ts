/**
 * From a loaded LLB definition to the solver's vertices: each LLB op gets its worker implementation.
 * Vertices that read the live build context get the build session folded into their digest, so two
 * concurrent builds with different contexts never share them (everything else dedupes freely).
 */
import { createHash } from 'node:crypto';
import type { LLBVertex, LoadedDefinition } from '../../llb/types.js';
import { summarizeOp } from '../../llb/describe.js';
import type { Edge, Op, Vertex } from '../../solver/types.js';
import type { SourceLocation } from '../../util/errors.js';
import { assertNever } from '../../util/errors.js';
import { ExecOpImpl } from './exec-op.js';
import { FileOpImpl } from './file-op.js';
import { MergeOpImpl } from './merge-op.js';
import { sourceOpFor } from './source-op.js';
import type { OpDeps } from './context.js';

export interface SolverGraph {
  /** The definition's result; undefined when the result is the empty filesystem. */
  readonly target: Edge | undefined;
  readonly vertices: ReadonlyMap<string, Vertex>;
}

function locationOf(def: LoadedDefinition, v: LLBVertex): SourceLocation | undefined {
  const l = v.metadata.locations[0];
  if (!l) return undefined;
  const src = def.sources[l.sourceIndex];
  return { file: src?.filename ?? 'Dockerfile', line: l.startLine, column: l.startColumn || 1, ...(l.endLine !== l.startLine ? { endLine: l.endLine } : {}) };
}

function opFor(def: LoadedDefinition, v: LLBVertex, deps: OpDeps): Op {
  const loc = locationOf(def, v);
  const op = v.op;
  switch (op.kind) {
    case 'exec':
      return new ExecOpImpl(v, op.exec, deps, loc);
    case 'file':
      return new FileOpImpl(v, op.file, deps, loc);
    case 'source':
      return sourceOpFor(v, op.source, deps, loc);
    case 'merge':
      return new MergeOpImpl(v, op.merge, deps);
    default:
      return assertNever(op, 'op');
  }
}

export function solverGraph(def: LoadedDefinition, deps: OpDeps): SolverGraph {
  const out = new Map<string, Vertex>();
  const readsContext = new Map<string, boolean>();
  // def.vertices is in dependency order: inputs before their users.
  for (const v of def.vertices.values()) {
    const isLocal = v.op.kind === 'source' && v.op.source.identifier.startsWith('local://');
    const ctx = isLocal || v.inputs.some((i) => readsContext.get(i.digest) === true);
    readsContext.set(v.digest, ctx);
    const digest = ctx ? `sha256:${createHash('sha256').update(`${v.digest}\0${deps.session.id}`).digest('hex')}` : v.digest;
    const inputs: Edge[] = v.inputs.map((i) => {
      const iv = out.get(i.digest);
      if (!iv) throw new Error(`definition lists ${v.digest} before its input ${i.digest}`);
      return { vertex: iv, index: i.index };
    });
    const loc = locationOf(def, v);
    const m = v.metadata;
    out.set(v.digest, {
      digest,
      name: m.description || summarizeOp(v),
      inputs,
      op: opFor(def, v, deps),
      options: {
        ignoreCache: m.ignoreCache,
        ...(m.stage ? { stage: m.stage } : {}),
        ...(m.step ? { step: m.step, steps: m.steps } : {}),
        ...(loc ? { locations: [loc] } : {}),
      },
    });
  }
  const root = def.root;
  const rv = root ? out.get(root.digest) : undefined;
  return { target: rv && root ? { vertex: rv, index: root.index } : undefined, vertices: out };
}
