/** What a SharedVertex needs from the Solver that owns it. Internal to the solver. */
import type { CacheRecordStore } from './cache-types.js';
import type { MissExplainer, PreviousResultFinder, ResultLoader, Scheduler } from './types.js';

export interface SolverDeps {
  readonly cache: CacheRecordStore;
  readonly loader: ResultLoader;
  readonly scheduler: Scheduler;
  readonly now: () => number;
  /** The build's miss explainer (SolveOptions.explainMiss), if any. */
  readonly explainMiss?: MissExplainer;
  /** The build's finder of earlier results (SolveOptions.previousResult), if any. */
  readonly previousResult?: PreviousResultFinder;
  /**
   * Called once when a shared vertex (registry id `id`) loses its last hold; `idle` settles when its
   * work has stopped and its results are released.
   */
  readonly onDispose: (id: string, idle: Promise<void>) => void;
}
