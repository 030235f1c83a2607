/**
 * The builder's internal vertex: an op body plus references to the outputs it consumes. Bodies are
 * computed when the graph is marshalled, not when the node is made, so a node may depend on facts
 * that are only known later (the build context's followpaths are the union of every COPY source,
 * collected while the rest of the graph is being built) — BuildKit's async outputs, without async.
 */
import type { tsbuild } from './gen/llb.js';
import type { LLBPlatform, OpConstraints } from './types.js';

/** The op message minus `inputs`, which marshalling fills in from `OpNode.inputs`. */
export type OpBody = Omit<tsbuild.llb.Op.$Properties, 'inputs' | 'platform'>;

/** Output `index` of `node`. An absent Output (undefined) is the empty filesystem (scratch). */
export interface Output {
  readonly node: OpNode;
  readonly index: number;
}

export interface OpNodeInit {
  readonly inputs: readonly Output[];
  /** Called once per marshal; must be deterministic. */
  readonly body: () => OpBody;
  readonly outputs: number;
  readonly platform?: LLBPlatform | undefined;
  readonly constraints?: OpConstraints | undefined;
}

export class OpNode {
  readonly inputs: readonly Output[];
  readonly body: () => OpBody;
  readonly outputs: number;
  readonly platform: LLBPlatform | undefined;
  readonly constraints: OpConstraints;

  constructor(init: OpNodeInit) {
    this.inputs = init.inputs;
    this.body = init.body;
    this.outputs = init.outputs;
    this.platform = init.platform;
    this.constraints = init.constraints ?? {};
  }

  output(index: number): Output {
    if (index < 0 || index >= this.outputs) throw new RangeError(`op has ${this.outputs} outputs, no output ${index}`);
    return { node: this, index };
  }
}

/**
 * Collects distinct outputs in first-use order and hands out their input indexes; -1 for scratch.
 */
export class InputList {
  private readonly list: Output[] = [];

  add(o: Output | undefined): number {
    if (o === undefined) return -1;
    const i = this.list.findIndex((x) => x.node === o.node && x.index === o.index);
    if (i >= 0) return i;
    this.list.push(o);
    return this.list.length - 1;
  }

  get size(): number {
    return this.list.length;
  }

  outputs(): readonly Output[] {
    return [...this.list];
  }
}
