/**
 * MergeOp construction: the union of several filesystems, later ones on top (COPY --link). Scratch
 * inputs contribute nothing and are dropped; merging a single input is that input.
 */
import { InputList, OpNode } from './op-node.js';
import type { Output } from './op-node.js';
import type { OpConstraints } from './types.js';

/** Returns the merged output, or the only non-scratch input, or undefined (all scratch). */
export function buildMerge(outputs: readonly (Output | undefined)[], constraints: OpConstraints | undefined): Output | undefined {
  const present = outputs.filter((o): o is Output => o !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  const inputs = new InputList();
  const merge = { inputs: present.map((o) => ({ input: inputs.add(o) })) };
  const node = new OpNode({ inputs: inputs.outputs(), body: { merge }, outputs: 1, constraints });
  return node.output(0);
}
