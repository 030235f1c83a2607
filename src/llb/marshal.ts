/**
 * Marshalling: walks the builder graph from a root output (inputs first, in input order),
 * encodes each op canonically with its inputs' digests, drops duplicates (same digest = same
 * vertex) and appends the terminal op. Iterative, so 10,000-step chains do not hit the stack limit.
 */
import { tsbuild } from './gen/llb.js';
import { encodeOp } from './canonical.js';
import { loadDefinition } from './definition.js';
import type { OpNode, Output } from './op-node.js';
import type { Definition, DefinitionSource, Digest, LoadedDefinition, OpConstraints } from './types.js';

export interface MarshalOptions {
  /** Source files that op locations refer to (by index). */
  readonly sources?: readonly DefinitionSource[];
}

class MarshalledDefinition implements Definition {
  readonly bytes: Uint8Array;
  private cached: LoadedDefinition | undefined;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  get loaded(): LoadedDefinition {
    this.cached ??= loadDefinition(this.bytes);
    return this.cached;
  }
}

function metadataOf(c: OpConstraints): tsbuild.llb.OpMetadata.$Properties {
  return {
    ignoreCache: c.ignoreCache ?? false,
    description: c.description ?? '',
    stage: c.stage ?? '',
    step: c.step ?? 0,
    steps: c.steps ?? 0,
    locations: (c.locations ?? []).map((l) => ({
      sourceIndex: l.sourceIndex,
      startLine: l.startLine,
      endLine: l.endLine,
      startColumn: l.startColumn,
    })),
  };
}

export function marshalOutput(root: Output | undefined, opts: MarshalOptions = {}): Definition {
  const digests = new Map<OpNode, Digest>();
  const def: Uint8Array[] = [];
  const metadata = new Map<Digest, tsbuild.llb.OpMetadata.$Properties>();

  if (root) {
    // Post-order DFS with an explicit stack: a node is emitted once all its inputs are.
    const stack: { node: OpNode; next: number }[] = [{ node: root.node, next: 0 }];
    const onStack = new Set<OpNode>([root.node]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { node: OpNode; next: number };
      if (top.next < top.node.inputs.length) {
        const child = (top.node.inputs[top.next] as Output).node;
        top.next++;
        if (!digests.has(child)) {
          if (onStack.has(child)) throw new Error('cycle in LLB graph');
          onStack.add(child);
          stack.push({ node: child, next: 0 });
        }
        continue;
      }
      stack.pop();
      onStack.delete(top.node);
      const n = top.node;
      const inputs = n.inputs.map((i) => ({ digest: digests.get(i.node) as string, index: i.index }));
      const op: tsbuild.llb.Op.$Properties = { ...n.body(), inputs };
      if (n.platform) {
        op.platform = { os: n.platform.os, architecture: n.platform.architecture, variant: n.platform.variant ?? '' };
      }
      const enc = encodeOp(op);
      digests.set(n, enc.digest);
      if (!metadata.has(enc.digest)) {
        def.push(enc.bytes);
        metadata.set(enc.digest, metadataOf(n.constraints));
      }
    }
    const terminal = encodeOp({ inputs: [{ digest: digests.get(root.node) as string, index: root.index }] });
    def.push(terminal.bytes);
  }

  const entries = [...metadata.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([digest, m]) => tsbuild.llb.OpMetadataEntry.encode({ digest, metadata: m }).finish());
  const sources = (opts.sources ?? []).map((s) => tsbuild.llb.Source.encode({ filename: s.filename, data: s.data }).finish());
  return new MarshalledDefinition(encodeDefinition(def, entries, sources));
}

function varintLength(n: number): number {
  let len = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 128)) len++;
  return len;
}

/**
 * The Definition message, assembled from already-encoded parts: the same bytes protobufjs writes
 * (fields in number order, length-delimited), without copying megabytes of ops through its writer
 * (test/llb/definition-encoding.test.ts checks the equality).
 */
export function encodeDefinition(def: readonly Uint8Array[], metadata: readonly Uint8Array[], sources: readonly Uint8Array[]): Uint8Array {
  const fields: [tag: number, parts: readonly Uint8Array[]][] = [[0x0a, def], [0x12, metadata], [0x1a, sources]];
  let size = 0;
  for (const [, parts] of fields) for (const p of parts) size += 1 + varintLength(p.length) + p.length;
  const out = new Uint8Array(size);
  let pos = 0;
  for (const [tag, parts] of fields) {
    for (const p of parts) {
      out[pos++] = tag;
      let v = p.length;
      while (v >= 0x80) {
        out[pos++] = (v & 0x7f) | 0x80;
        v = Math.floor(v / 128);
      }
      out[pos++] = v;
      out.set(p, pos);
      pos += p.length;
    }
  }
  return out;
}
