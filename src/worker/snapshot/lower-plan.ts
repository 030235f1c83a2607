/**
 * Which directories go into `lowerdir` for a chain. Up to the limit every layer is its own lower
 * (by short link name). Deeper chains stack the nearest layers on one flattened directory: a copy
 * of the merged view of an older ancestor, made once and kept in that ancestor's `flat/`.
 *
 * The ancestor is chosen at a depth that is a multiple of half the limit, so a chain that keeps
 * growing (one layer per build step) reuses the same flattened directory for the next hundreds of
 * layers instead of squashing anew at every step.
 */

/** One layer of a chain, nearest first. */
export interface ChainLayer {
  readonly id: string;
  readonly link: string;
}

export interface LowerPlan {
  /** Lower directories, nearest first, relative to `overlay2/l` (the mount's cwd). */
  readonly lowers: readonly string[];
  /** The ancestor whose `flat/` the plan uses; it must exist before mounting. */
  readonly flatten: string | undefined;
}

export interface PlanOptions {
  readonly maxLowers: number;
  /** A mount without an upper dir needs at least two lowers; an empty one is added if necessary. */
  readonly readOnly: boolean;
}

export const EMPTY_LOWER = '../.empty';

export function flatLower(id: string): string {
  return `../${id}/flat`;
}

export function planLowers(layers: readonly ChainLayer[], opts: PlanOptions): LowerPlan {
  if (opts.maxLowers < 2) throw new RangeError(`maxLowers must be at least 2, got ${opts.maxLowers}`);
  const n = layers.length;
  if (n <= opts.maxLowers) {
    const lowers = layers.map((l) => l.link);
    if (lowers.length === 0 || (opts.readOnly && lowers.length === 1)) lowers.push(EMPTY_LOWER);
    return { lowers, flatten: undefined };
  }
  const step = Math.floor(opts.maxLowers / 2);
  // k ≥ 1 keeps the flattened ancestor below the top, so flattening X never needs X's own flat/.
  const k = n % step || step;
  const base = layers[k];
  if (base === undefined) throw new Error('unreachable: flatten index outside the chain');
  return { lowers: [...layers.slice(0, k).map((l) => l.link), flatLower(base.id)], flatten: base.id };
}
