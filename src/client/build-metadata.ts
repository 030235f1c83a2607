/** The per-step part of `--metadata-file`: every step, and for each one that ran, why. */
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
