/** The per-step part of `--metadata-file`: every step, and for each one that ran, why. */
import { isBookkeeping } from '../progress/epilogue.js';
import type { BuildResult } from './types.js';

export interface StepMetadata {
  readonly name: string;
  readonly outcome: string;
  readonly cacheKey?: string;
  /** Why the cache could not answer the step (steps that ran only). */
  readonly cacheMiss?: string;
  readonly durationMs: number;
}

export function stepMetadata(result: BuildResult): StepMetadata[] {
  return result.summary.steps.map((st) => ({
    name: st.name,
    outcome: st.outcome,
    ...(st.cacheKey !== undefined ? { cacheKey: st.cacheKey } : {}),
    ...(st.cacheMiss !== undefined ? { cacheMiss: st.cacheMiss } : {}),
    durationMs: st.durationMs,
  }));
}

/**
 * The totals of `--metadata-file`, counted as the progress summary line counts them (`steps: N
 * total, …`): build steps only. Bookkeeping such as `[internal] load build context` always runs;
 * it is listed in `tsbuild.steps` but not counted, so the two reports agree.
 */
export function buildStepCounts(result: BuildResult): { total: number; cached: number; executed: number } {
  const steps = result.summary.steps.filter((st) => !isBookkeeping(st.name));
  return {
    total: steps.length,
    cached: steps.filter((st) => st.outcome === 'cached').length,
    executed: steps.filter((st) => st.outcome === 'executed').length,
  };
}
