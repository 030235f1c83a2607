/** Human-readable summaries and JSON views of decoded vertices (for `tsbuild llb`, logs, reports). */
import { tsbuild } from './gen/llb.js';
import type { LLBVertex, LoadedDefinition } from './types.js';

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** A one-line summary of what the op does, when it has no description. */
export function summarizeOp(v: LLBVertex): string {
  const op = v.op;
  switch (op.kind) {
    case 'source': return op.source.identifier;
    case 'exec': return clip(`exec ${(op.exec.meta?.args ?? []).join(' ')}`, 80);
    case 'merge': return `merge ${op.merge.inputs.length} inputs`;
    case 'file': return clip(`file ${op.file.actions.map((a) => {
      if (a.copy) return `copy ${a.copy.src} ${a.copy.dest}`;
      if (a.mkdir) return `mkdir ${a.mkdir.path}`;
      if (a.mkfile) return `mkfile ${a.mkfile.path}`;
      if (a.rm) return `rm ${a.rm.path}`;
      if (a.symlink) return `symlink ${a.symlink.oldpath} ${a.symlink.newpath}`;
      return '?';
    }).join('; ')}`, 80);
  }
}

/** The vertex's progress name, or its summary. */
export function vertexName(v: LLBVertex): string {
  return v.metadata.description || summarizeOp(v);
}

function decodeText(b: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return undefined;
  }
}

/** A JSON-ready object for one vertex: the op decoded (enums by name), inputs and metadata. */
export function vertexToJSON(v: LLBVertex): Record<string, unknown> {
  const op = tsbuild.llb.Op.toObject(tsbuild.llb.Op.decode(v.bytes), { enums: String, longs: Number, bytes: String, defaults: false });
  delete op['inputs'];
  // Inline file contents are easier to read as text.
  const actions = (op['file'] as { actions?: { mkfile?: Record<string, unknown> }[] } | undefined)?.actions ?? [];
  for (const a of actions) {
    if (a.mkfile && typeof a.mkfile['data'] === 'string') {
      const text = decodeText(Buffer.from(a.mkfile['data'], 'base64'));
      if (text !== undefined) a.mkfile['text'] = text;
    }
  }
  return {
    digest: v.digest,
    kind: v.op.kind,
    inputs: v.inputs,
    outputs: v.outputs,
    op,
    metadata: v.metadata,
  };
}

/** The whole definition as JSON-ready data (vertices in dependency order). */
export function definitionToJSON(def: LoadedDefinition): Record<string, unknown> {
  return {
    root: def.root ?? null,
    vertices: [...def.vertices.values()].map(vertexToJSON),
    sources: def.sources.map((s) => ({ filename: s.filename, size: s.data.length })),
  };
}
