/**
 * OCI chain ids (image-spec config.md, "Layer ChainID"): the identity of a stack of layers,
 * `ChainID(L0) = DiffID(L0)`, `ChainID(L0|…|Ln) = sha256(ChainID(L0|…|Ln-1) + " " + DiffID(Ln))`.
 */
import { createHash } from 'node:crypto';

/** The chain id of every prefix of `diffIds` (bottom first). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let prev: string | undefined;
  for (const d of diffIds) {
    prev = prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`;
    out.push(prev);
  }
  return out;
}
