/**
 * What a vertex's decision (shared-vertex.ts) reads from its inputs' decisions: an input rebuilt for
 * ignore-cache makes the vertex rebuild too, and an input that missed is why the vertex missed
 * ("input X changed"). Only inputs keyed by their cache key count: that key stays the same when the
 * input's content changes, where a content checksum would not.
 */
import { abortable } from './abortable.js';
import type { MissReason, Vertex } from './types.js';
import type { Decision, KeyInfo } from './vertex-types.js';

/** An input as its decision is read here (shared-vertex.ts's InputLink). */
interface DecidedInput {
  readonly state: { readonly vertex: Vertex; decide(): Promise<Decision> };
}

/** The first input keyed by its cache key that is being rebuilt for ignore-cache, if any. */
export async function rebuiltInput(key: KeyInfo, inputs: readonly DecidedInput[], signal: AbortSignal): Promise<MissReason | undefined> {
  for (const [i, part] of key.parts.entries()) {
    const link = inputs[i];
    if (part.kind !== 'key' || !link) continue;
    const d = await abortable(link.state.decide(), signal);
    if (!d.hit && d.rebuild) return { kind: 'input-changed', input: i, inputName: link.state.vertex.name };
  }
  return undefined;
}

/** "input X changed" when an input keyed by its cache key had no record itself; else "no record". */
export async function missReason(key: KeyInfo, inputs: readonly DecidedInput[], signal: AbortSignal): Promise<MissReason> {
  for (const [i, part] of key.parts.entries()) {
    const link = inputs[i];
    if (part.kind !== 'key' || !link) continue;
    const d = await abortable(link.state.decide(), signal).catch(() => undefined);
    if (d && !d.hit && (d.reason.kind === 'no-record' || d.reason.kind === 'input-changed')) {
      return { kind: 'input-changed', input: i, inputName: link.state.vertex.name };
    }
  }
  return { kind: 'no-record' };
}
