/**
 * The builder's internal vertex: an op body plus references to the outputs it consumes. A body is
 * either encoded when the node is made (exec, file and merge ops: `encodedBody`, see op-bytes.ts)
 * or computed when the graph is marshalled (sources), so that a node may depend on facts that are
 * only known later (the build context's followpaths are the union of every COPY source, collected
 * while the rest of the graph is being built) — BuildKit's async outputs, without async. The
 * op's metadata (its constraints) is always encoded when the node is made.
 */
import { tsbuild } from './gen/llb.js';
import { endPart, partWriter } from './op-bytes.js';
import type { ProtoWriter } from './proto-writer.js';
import { writeMetadataField, writeOpBody } from './op-encoding.js';
import type { LLBPlatform, OpConstraints } from './types.js';
import { compactArray } from '../util/compact-array.js';

/** The op message minus `inputs`, which marshalling fills in from `OpNode.inputs`. */
export type OpBody = Omit<tsbuild.llb.Op.$Properties, 'inputs' | 'platform'>;

/** Output `index` of `node`. An absent Output (undefined) is the empty filesystem (scratch). */
export interface Output {
  readonly node: OpNode;
  readonly index: number;
}

/** Environment variable that turns on the protobufjs cross-check of every encoding. */
export const VERIFY_ENCODING_ENV = 'TSBUILD_VERIFY_LLB_ENCODING';

/**
 * Whether the cross-check is on. process.env is slow to read (about a microsecond: a lookup in the
 * C++ environment each time) and nodes are made by the ten thousand, so the answer is kept until
 * the current job's microtasks run: a change of the variable counts from the next turn on.
 */
let verifyCached: boolean | undefined;
function verifying(): boolean {
  if (verifyCached === undefined) {
    verifyCached = process.env[VERIFY_ENCODING_ENV] === '1';
    queueMicrotask(() => {
      verifyCached = undefined;
    });
  }
  return verifyCached;
}

/**
 * A body that writes itself (fields 2..5 of the Op, exactly what `writeOpBody` writes for
 * `reference()`): a builder with many fields per step (exec.ts) writes them from one record instead
 * of building message objects only for them to be encoded. `reference` is for the protobufjs
 * cross-check and for `OpNode.body()` callers, never on the usual path.
 */
export interface BodyWriter {
  write(w: ProtoWriter): void;
  reference(): OpBody;
}

function isBodyWriter(b: OpBody | BodyWriter): b is BodyWriter {
  return typeof (b as Partial<BodyWriter>).write === 'function';
}

export interface OpNodeInit {
  readonly inputs: readonly Output[];
  /**
   * The body: an object or a BodyWriter (encoded at once; it must not change afterwards) or a
   * function called once per marshal, which must be deterministic.
   */
  readonly body: OpBody | BodyWriter | (() => OpBody);
  readonly outputs: number;
  readonly platform?: LLBPlatform | undefined;
  readonly constraints?: OpConstraints | undefined;
}

/** Throws when `got` (ours) and `expected` (protobufjs') differ: the verification mode's check. */
export function checkSameEncoding(what: string, got: Uint8Array, expected: Uint8Array): void {
  if (Buffer.from(got).equals(Buffer.from(expected))) return;
  throw new Error(`internal: hand-written LLB encoding of ${what} differs from protobufjs: ${Buffer.from(got).toString('hex')} != ${Buffer.from(expected).toString('hex')}`);
}

/** The OpMetadata message of `c`, every field filled (defaults for absent ones). */
export function metadataOf(c: OpConstraints): tsbuild.llb.OpMetadata.$Properties {
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

/** Bytes after a field's one-byte tag and its length (parts here are short or prefixed by a tag). */
function afterTagAndLength(bytes: Uint8Array): Uint8Array {
  let i = 1;
  while ((bytes[i] as number) & 0x80) i++;
  return bytes.subarray(i + 1);
}

/**
 * An op is its own first output (`output(0)` is the node itself, with `node` and `index` getters):
 * steps chain through root outputs, and an `{ node, index }` object per op was ~40 bytes more for
 * the garbage collector to copy and promote per step. Other outputs are plain Output objects.
 */
export class OpNode implements Output {
  declare readonly inputs: readonly Output[];
  declare readonly outputs: number;
  declare readonly platform: LLBPlatform | undefined;
  /**
   * The encoded metadata, then the encoded body (none for a lazy body), at [start, bodyStart) and
   * [bodyStart, end) of a slab shared with other nodes: a node lives until marshalling, and three
   * numbers instead of a view object of its own (or two) are ~100 bytes less for the garbage
   * collector to copy and promote per step.
   */
  declare private readonly slab: Uint8Array;
  declare private readonly start: number;
  declare private readonly bodyStart: number;
  declare private readonly end: number;
  declare private readonly lazyBody: (() => OpBody) | undefined;
  /**
   * Marshalling's state for the node (marshal.ts), in the node instead of a Map the walk looked up
   * and grew ~4 times per op: the number of the marshal that last reached the node and the node's
   * digest in it ('' while its inputs are being walked). Only the marshal that owns the fields
   * reads or writes them; 0 is no marshal's.
   */
  declare marshalMark: number;
  declare marshalDigest: string;

  /**
   * The node is an object literal with this class's prototype, returned in place of `this` (the
   * fields are `declare`d for that reason). Nodes live until marshalling, and V8 pretenures what
   * an object literal's allocation site makes once it sees that it survives (allocation-site
   * pretenuring): such nodes are made in the old generation directly, where a `new` instance was
   * made young and copied twice by the scavenger (~90 bytes per step). Methods, getters and
   * `instanceof` are the class's as before.
   */
  constructor(init: OpNodeInit) {
    const checking = verifying();
    const c = init.constraints ?? {};
    const body = init.body;
    // Both encodings are position-independent (op-encoding.ts): written back to back, each is
    // byte for byte what it is alone.
    const w = partWriter();
    const start = w.pos;
    writeMetadataField(w, c);
    const bodyStart = w.pos;
    if (typeof body !== 'function') {
      if (isBodyWriter(body)) body.write(w);
      else writeOpBody(w, body);
    }
    const slab = w.buffer();
    const end = w.pos;
    endPart();
    const node = {
      __proto__: OpNode.prototype,
      inputs: init.inputs,
      outputs: init.outputs,
      platform: init.platform,
      slab,
      start,
      bodyStart,
      end,
      lazyBody: typeof body === 'function' ? body : undefined,
      marshalMark: 0,
      marshalDigest: '',
    } as unknown as OpNode;
    if (checking) checkSameEncoding('metadata', afterTagAndLength(node.encodedMetadata), tsbuild.llb.OpMetadata.encode(metadataOf(c)).finish());
    if (checking && typeof body !== 'function') {
      const reference = isBodyWriter(body) ? body.reference() : body;
      checkSameEncoding('op body', node.encodedBody as Uint8Array, tsbuild.llb.Op.encode({ ...reference }).finish());
    }
    return node;
  }

  /** Op fields 2..5 as encoded (exactly what `writeOpBody` writes); undefined for lazy bodies. */
  get encodedBody(): Uint8Array | undefined {
    return this.lazyBody ? undefined : this.range(this.bodyStart, this.end);
  }

  /** The OpMetadataEntry's `metadata` field (tag, length, OpMetadata) as `writeMetadataField` writes it. */
  get encodedMetadata(): Uint8Array {
    return this.range(this.start, this.bodyStart);
  }

  /** Writes `encodedBody` (a node with an encoded body only) without making a view of it. */
  writeEncodedBody(w: ProtoWriter): void {
    w.rawRange(this.slab, this.bodyStart, this.end);
  }

  /** Length of `encodedMetadata`. */
  get metadataLength(): number {
    return this.bodyStart - this.start;
  }

  /** Writes `encodedMetadata` without making a view of it. */
  writeEncodedMetadata(w: ProtoWriter): void {
    w.rawRange(this.slab, this.start, this.bodyStart);
  }

  /** True when the body was encoded at construction (not computed per marshal). */
  get hasEncodedBody(): boolean {
    return this.lazyBody === undefined;
  }

  private range(from: number, to: number): Uint8Array {
    const s = this.slab;
    return new Uint8Array(s.buffer, s.byteOffset + from, to - from);
  }

  /** The body as a message object (decoded from its bytes when it was encoded at construction). */
  body(): OpBody {
    if (this.lazyBody) return this.lazyBody();
    return tsbuild.llb.Op.decode(this.encodedBody as Uint8Array);
  }

  /** The metadata as constraints (decoded from its bytes). */
  get constraints(): OpConstraints {
    const m = tsbuild.llb.OpMetadata.decode(afterTagAndLength(this.encodedMetadata));
    return {
      ignoreCache: m.ignoreCache,
      description: m.description,
      stage: m.stage,
      step: m.step,
      steps: m.steps,
      locations: m.locations.map((l) => ({ sourceIndex: l.sourceIndex ?? 0, startLine: l.startLine ?? 0, endLine: l.endLine ?? 0, startColumn: l.startColumn ?? 0 })),
    };
  }

  output(index: number): Output {
    if (index < 0 || index >= this.outputs) throw new RangeError(`op has ${this.outputs} outputs, no output ${index}`);
    return index === 0 ? this : { node: this, index };
  }

  /** As output 0 (see the class comment). */
  get node(): OpNode {
    return this;
  }

  /** As output 0 (see the class comment). */
  get index(): number {
    return 0;
  }
}

/**
 * Collects distinct outputs in first-use order and hands out their input indexes; -1 for scratch.
 */
export class InputList {
  private readonly list: Output[] = [];

  add(o: Output | undefined): number {
    if (o === undefined) return -1;
    // A loop, not findIndex: its closure was made for every input of every op.
    const list = this.list;
    const node = o.node;
    const index = o.index;
    for (let i = 0; i < list.length; i++) {
      const x = list[i] as Output;
      if (x.node === node && x.index === index) return i;
    }
    list.push(o);
    return list.length - 1;
  }

  get size(): number {
    return this.list.length;
  }

  /** The outputs at their exact length, allocated where V8 can pretenure them (compact-array.ts): an op keeps them until marshalling. */
  outputs(): readonly Output[] {
    return compactArray(this.list);
  }
}
