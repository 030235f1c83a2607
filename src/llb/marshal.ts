/**
 * Marshalling: walks the builder graph from a root output (inputs first, in input order),
 * encodes each op canonically with its inputs' digests, drops duplicates (same digest = same
 * vertex) and appends the terminal op. Iterative, so 10,000-step chains do not hit the stack limit.
 *
 * Everything is written into one ProtoWriter as the Definition message itself: each op is encoded
 * in place (op-encoding.ts, no intermediate message objects), hashed where it lies and, when its
 * digest was seen already, rewound. Set TSBUILD_VERIFY_LLB_ENCODING=1 to have every op and
 * metadata entry also encoded by protobufjs and compared (tests do; it is slow).
 */
import { tsbuild } from './gen/llb.js';
import { canonicalAttrs, canonicalOp } from './canonical.js';
import { loadDefinition } from './definition.js';
import { sha256Digest } from './digest.js';
import { writeInputField, writeMetadataEntry, writeOpBody, writePlatformField, writeSource } from './op-encoding.js';
import type { OpBody, OpNode, Output } from './op-node.js';
import { LEN, ProtoWriter } from './proto-writer.js';
import type { Definition, DefinitionSource, Digest, LoadedDefinition, OpConstraints } from './types.js';

export interface MarshalOptions {
  /** Source files that op locations refer to (by index). */
  readonly sources?: readonly DefinitionSource[];
}

/** Environment variable that turns on the protobufjs cross-check of every encoding. */
export const VERIFY_ENCODING_ENV = 'TSBUILD_VERIFY_LLB_ENCODING';

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

/** The body with SourceOp attrs in canonical order (a copy only when they are not). */
function canonicalBody(body: OpBody): OpBody {
  const attrs = body.source?.attrs;
  if (!attrs || attrs.length < 2) return body;
  const sorted = canonicalAttrs(attrs);
  return sorted === attrs ? body : { ...body, source: { ...body.source, attrs: [...sorted] } };
}

/** Throws when `got` (ours) and `expected` (protobufjs') differ: the verification mode's check. */
export function checkSameEncoding(what: string, got: Uint8Array, expected: Uint8Array): void {
  if (Buffer.from(got).equals(Buffer.from(expected))) return;
  throw new Error(`internal: hand-written LLB encoding of ${what} differs from protobufjs: ${Buffer.from(got).toString('hex')} != ${Buffer.from(expected).toString('hex')}`);
}

/** The op as a protobufjs message object, exactly as marshalling used to build it (for the cross-check). */
function referenceOp(n: OpNode, body: OpBody, digests: ReadonlyMap<OpNode, Digest>): tsbuild.llb.Op.$Properties {
  const inputs = n.inputs.map((i) => ({ digest: digests.get(i.node) as string, index: i.index }));
  const op: tsbuild.llb.Op.$Properties = { ...body, inputs };
  if (n.platform) op.platform = { os: n.platform.os, architecture: n.platform.architecture, variant: n.platform.variant ?? '' };
  return canonicalOp(op);
}

export function marshalOutput(root: Output | undefined, opts: MarshalOptions = {}): Definition {
  const checking = process.env[VERIFY_ENCODING_ENV] === '1';
  const w = new ProtoWriter(64 * 1024);
  const digests = new Map<OpNode, Digest>();
  /** Constraints of each distinct vertex: the first node with a digest gives its metadata. */
  const metadata = new Map<Digest, OpConstraints>();

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
      // Definition.def entry: the op's fields in number order — inputs (1), body (2..5), platform (10).
      const mark = w.pos;
      w.tag(1, LEN);
      const at = w.fork();
      for (const i of n.inputs) writeInputField(w, digests.get(i.node) as string, i.index);
      const body = canonicalBody(n.body());
      writeOpBody(w, body);
      if (n.platform) writePlatformField(w, n.platform);
      const len = w.pos - at - 1;
      w.ldelim(at);
      const bytes = w.view(w.pos - len);
      if (checking) checkSameEncoding('op', bytes, tsbuild.llb.Op.encode(referenceOp(n, body, digests)).finish());
      const digest = sha256Digest(bytes);
      digests.set(n, digest);
      if (metadata.has(digest)) w.pos = mark;
      else metadata.set(digest, n.constraints);
    }
    w.tag(1, LEN);
    const at = w.fork();
    writeInputField(w, digests.get(root.node) as string, root.index);
    w.ldelim(at);
  }

  // The default sort compares UTF-16 code units, as `<` does, without a call per comparison.
  for (const digest of [...metadata.keys()].sort()) {
    const c = metadata.get(digest) as OpConstraints;
    w.tag(2, LEN);
    const at = w.fork();
    writeMetadataEntry(w, digest, c);
    if (checking) checkSameEncoding('metadata', w.view(at + 1), tsbuild.llb.OpMetadataEntry.encode({ digest, metadata: metadataOf(c) }).finish());
    w.ldelim(at);
  }
  for (const s of opts.sources ?? []) {
    w.tag(3, LEN);
    const at = w.fork();
    writeSource(w, s);
    w.ldelim(at);
  }
  return new MarshalledDefinition(w.finish());
}
