/**
 * Marshalling: walks the builder graph from a root output (inputs first, in input order),
 * encodes each op canonically with its inputs' digests, drops duplicates (same digest = same
 * vertex) and appends the terminal op. Iterative, so 10,000-step chains do not hit the stack limit.
 *
 * Everything is written into one ProtoWriter as the Definition message itself: each op is encoded
 * in place (op-encoding.ts, no intermediate message objects), hashed where it lies and, when its
 * digest was seen already, rewound. Set TSBUILD_VERIFY_LLB_ENCODING=1 to have every op and
 * metadata entry also encoded by protobufjs and compared (tests do; it is slow). Exec, file and merge
 * bodies and all metadata arrive already encoded (op-node.ts) and are copied as they are.
 */
import { tsbuild } from './gen/llb.js';
import { canonicalAttrs, canonicalOp } from './canonical.js';
import { loadDefinition } from './definition.js';
import { sha256Hex } from './digest.js';
import { writeInputFieldSha256, writeOpBody, writePlatformField, writeSource } from './op-encoding.js';
import { VERIFY_ENCODING_ENV, checkSameEncoding, metadataOf } from './op-node.js';
import type { OpBody, OpNode, Output } from './op-node.js';
import { LEN } from './proto-wire-writer.js';
import { ProtoWriter } from './proto-writer.js';
import type { Definition, DefinitionSource, LLBPlatform, LoadedDefinition } from './types.js';
import { throwIfAborted } from '../util/errors.js';
import { yieldToEventLoop } from '../util/yield.js';

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

/** The body with SourceOp attrs in canonical order (a copy only when they are not). */
function canonicalBody(body: OpBody): OpBody {
  const attrs = body.source?.attrs;
  if (!attrs || attrs.length < 2) return body;
  const sorted = canonicalAttrs(attrs);
  return sorted === attrs ? body : { ...body, source: { ...body.source, attrs: [...sorted] } };
}

/** The op as a protobufjs message object, exactly as marshalling used to build it (for the cross-check). */
function referenceOp(n: OpNode, body: OpBody, digestOf: (n: OpNode) => string | undefined): tsbuild.llb.Op.$Properties {
  const inputs = n.inputs.map((i) => ({ digest: `sha256:${digestOf(i.node) as string}`, index: i.index }));
  const op: tsbuild.llb.Op.$Properties = { ...body, inputs };
  if (n.platform) op.platform = { os: n.platform.os, architecture: n.platform.architecture, variant: n.platform.variant ?? '' };
  return canonicalOp(op);
}

/** Value of a lower-case hex digit's character code, by code ('0'..'9' then 'a'..'f': their order). */
function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : c - 0x57;
}

/**
 * Lower-case hex digests in the default sort's order (UTF-16 code units, as `<` compares), sorted
 * as 256 buckets by their first two digits, each bucket by the default sort: digests are uniformly
 * spread, so the buckets are small and most comparisons are saved (the sort of ~6,000 digests
 * was ~6 % of a marshal). Digits map to bucket numbers in code-unit order, so the order is the same.
 */
export function sortHexDigests(digests: readonly string[]): string[] {
  if (digests.length < 512) return [...digests].sort();
  const buckets: string[][] = [];
  for (let i = 0; i < 256; i++) buckets.push([]);
  for (const d of digests) {
    const hi = hexValue(d.charCodeAt(0));
    const lo = hexValue(d.charCodeAt(1));
    // Anything but two lower-case hex digits (never made here): the plain sort.
    if (!(hi >= 0 && hi < 16 && lo >= 0 && lo < 16)) return [...digests].sort();
    (buckets[(hi << 4) | lo] as string[]).push(d);
  }
  const out: string[] = [];
  for (const b of buckets) {
    if (b.length > 1) b.sort();
    for (const d of b) out.push(d);
  }
  return out;
}

/** Length of a `sha256:` + 64 hex digits string. */
const SHA256_FIELD_LENGTH = 71;

/** Marks a node being visited in the marshaller's digest map (no digest is empty). */
const ON_STACK = '';

/** The number of the next marshal (0 is no marshal's: see OpNode.marshalMark). */
let nextMark = 1;
/**
 * The marshal whose state is in the nodes' own fields, 0 when none: one at a time, so that two
 * marshals interleaved at their event-loop turns (of graphs that share nodes) cannot overwrite each
 * other's state. One that starts while another owns them keeps its state in a Map.
 */
let fieldsOwner = 0;

/**
 * One marshalling in progress: `walk` encodes up to a budget of ops at a time and `writeMetadata`
 * up to a budget of metadata entries, so that an async caller can give the event loop turns in
 * between (a 200,000-step graph takes seconds).
 */
class Marshaller {
  private readonly checking = process.env[VERIFY_ENCODING_ENV] === '1';
  private readonly w = new ProtoWriter(64 * 1024);
  private readonly mark = nextMark++;
  // Digests are kept as bare hex (`sha256:` is written, never concatenated): flat strings hash
  // and compare faster as map keys, and every digest sorts the same with or without the prefix.
  // In the nodes' fields while this marshal owns them (the usual case), else in this Map.
  private readonly digests: Map<OpNode, string> | undefined;
  /** The root's digest, once the walk is done. */
  private rootDigest = '';
  /** Each distinct vertex's first node: the one whose metadata the definition carries. */
  private readonly metadata = new Map<string, OpNode>();
  // Post-order DFS with an explicit stack (node and next input to visit, side by side): a node
  // is emitted once all its inputs are. A node on the stack maps to ON_STACK until its digest
  // replaces it, so one map also finds cycles.
  private readonly nodes: OpNode[] = [];
  private readonly nexts: number[] = [];

  constructor(private readonly root: Output | undefined) {
    if (fieldsOwner === 0) fieldsOwner = this.mark;
    else this.digests = new Map();
    if (!root) return;
    this.nodes.push(root.node);
    this.nexts.push(0);
    this.setDigest(root.node, ON_STACK);
  }

  /** The node's digest in this marshal: ON_STACK while its inputs are walked, undefined before. */
  private digestOf(n: OpNode): string | undefined {
    const digests = this.digests;
    if (digests !== undefined) return digests.get(n);
    return n.marshalMark === this.mark ? n.marshalDigest : undefined;
  }

  private setDigest(n: OpNode, digest: string): void {
    const digests = this.digests;
    if (digests !== undefined) {
      digests.set(n, digest);
      return;
    }
    n.marshalMark = this.mark;
    n.marshalDigest = digest;
  }

  /** Gives up the nodes' fields (the walk is over, or the marshal stopped): idempotent. */
  release(): void {
    if (fieldsOwner === this.mark) fieldsOwner = 0;
  }

  /** Encodes up to `budget` ops; true once every op is encoded. */
  walk(budget: number): boolean {
    const { w, metadata, nodes, nexts, checking } = this;
    let left = budget;
    while (nodes.length > 0) {
      const top = nodes.length - 1;
      const n = nodes[top] as OpNode;
      const next = nexts[top] as number;
      if (next < n.inputs.length) {
        const child = (n.inputs[next] as Output).node;
        nexts[top] = next + 1;
        const seen = this.digestOf(child);
        if (seen === undefined) {
          this.setDigest(child, ON_STACK);
          nodes.push(child);
          nexts.push(0);
        } else if (seen === ON_STACK) {
          throw new Error('cycle in LLB graph');
        }
        continue;
      }
      if (left-- === 0) return false;
      nodes.pop();
      nexts.pop();
      // Definition.def entry: the op's fields in number order — inputs (1), body (2..5), platform (10).
      const mark = w.pos;
      w.tag(1, LEN);
      const at = w.fork2();
      // An index loop: the for-of made an iterator result per input (~0.7 MB per 10,000 steps).
      const inputs = n.inputs;
      for (let k = 0; k < inputs.length; k++) {
        const i = inputs[k] as Output;
        writeInputFieldSha256(w, this.digestOf(i.node) as string, i.index);
      }
      const body = n.hasEncodedBody ? undefined : canonicalBody(n.body());
      if (body === undefined) n.writeEncodedBody(w);
      else writeOpBody(w, body);
      if (n.platform) this.writePlatform(n.platform);
      const len = w.pos - at - 2;
      w.ldelim2(at);
      const bytes = w.view(w.pos - len);
      if (checking) checkSameEncoding('op', bytes, tsbuild.llb.Op.encode(referenceOp(n, body ?? n.body(), (x) => this.digestOf(x))).finish());
      const hex = sha256Hex(bytes);
      this.setDigest(n, hex);
      if (metadata.has(hex)) w.pos = mark;
      else metadata.set(hex, n);
    }
    if (this.root) this.rootDigest = this.digestOf(this.root.node) as string;
    this.release();
    return true;
  }

  /**
   * Encoded platform fields by platform object: the steps of a stage share one, and copying its
   * ~16 bytes costs less than encoding its strings for every op.
   */
  private readonly platforms = new Map<LLBPlatform, Uint8Array>();

  private writePlatform(p: LLBPlatform): void {
    const w = this.w;
    const bytes = this.platforms.get(p);
    if (bytes !== undefined) {
      w.rawRange(bytes, 0, bytes.length);
      return;
    }
    const start = w.pos;
    writePlatformField(w, p);
    this.platforms.set(p, w.view(start).slice());
  }

  /** Sorted digests of the distinct ops, made when the metadata is first written. */
  private sorted: string[] | undefined;
  private written = 0;

  /**
   * After `walk` has returned true: the terminal op, then metadata entries, up to `budget` of
   * them; true once all are written.
   */
  writeMetadata(budget: number): boolean {
    const { w, metadata, root, checking } = this;
    if (!this.sorted) {
      if (root) {
        w.tag(1, LEN);
        const at = w.fork();
        writeInputFieldSha256(w, this.rootDigest, root.index);
        w.ldelim(at);
      }
      this.sorted = sortHexDigests([...metadata.keys()]);
    }
    const sorted = this.sorted;
    const end = Math.min(sorted.length, this.written + budget);
    for (let k = this.written; k < end; k++) {
      const hex = sorted[k] as string;
      const n = metadata.get(hex) as OpNode;
      w.tag(2, LEN);
      // The entry's length is known before it is written: the digest field (tag, length and
      // `sha256:` + 64 hex digits) and the encoded metadata.
      w.uint32(2 + SHA256_FIELD_LENGTH + n.metadataLength);
      const at = w.pos;
      w.sha256Field(1, hex);
      n.writeEncodedMetadata(w);
      if (checking) checkSameEncoding('metadata', w.view(at), tsbuild.llb.OpMetadataEntry.encode({ digest: `sha256:${hex}`, metadata: metadataOf(n.constraints) }).finish());
    }
    this.written = end;
    return end === sorted.length;
  }

  /** The sources, after `writeMetadata` has returned true: the whole definition. */
  finish(opts: MarshalOptions): Definition {
    const w = this.w;
    for (const s of opts.sources ?? []) {
      w.tag(3, LEN);
      const at = w.fork();
      writeSource(w, s);
      w.ldelim(at);
    }
    return new MarshalledDefinition(w.finish());
  }
}

export function marshalOutput(root: Output | undefined, opts: MarshalOptions = {}): Definition {
  const m = new Marshaller(root);
  try {
    m.walk(Infinity);
  } finally {
    m.release();
  }
  m.writeMetadata(Infinity);
  return m.finish(opts);
}

/** Ops encoded between two turns of the event loop in `marshalOutputAsync` (~10–50 ms). */
const OPS_PER_TURN = 2000;

/**
 * `marshalOutput` for a process that must answer signals: the event loop gets a turn every few
 * thousand ops, and an aborted `signal` stops the marshalling with a CancelledError.
 */
export async function marshalOutputAsync(root: Output | undefined, opts: MarshalOptions & { readonly signal?: AbortSignal | undefined } = {}): Promise<Definition> {
  const m = new Marshaller(root);
  try {
    while (!m.walk(OPS_PER_TURN)) {
      await yieldToEventLoop();
      throwIfAborted(opts.signal);
    }
  } finally {
    m.release();
  }
  while (!m.writeMetadata(OPS_PER_TURN)) {
    await yieldToEventLoop();
    throwIfAborted(opts.signal);
  }
  return m.finish(opts);
}
