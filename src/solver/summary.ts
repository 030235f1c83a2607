/** Per-build step records and the build summary, from the shared vertices' state. */
import { assertNever } from '../util/errors.js';
import type { VertexView } from './vertex-types.js';
import type { BuildSummary, StepOutcome, StepRecord, Vertex } from './types.js';

/** How one build saw a vertex, given whether the build as a whole succeeded. */
export function stepRecord(vertex: Vertex, v: VertexView, opts: { readonly buildSucceeded: boolean }): StepRecord {
  const outcome = outcomeOf(v, opts.buildSucceeded);
  const ran = outcome === 'executed' || outcome === 'failed' || (outcome === 'canceled' && v.started !== undefined);
  return {
    digest: vertex.digest,
    name: vertex.name,
    cacheKey: v.key,
    outcome,
    missReason: outcome === 'executed' || outcome === 'failed' ? v.execReason : outcome === 'skipped' ? v.missReason : undefined,
    started: ran ? v.started : undefined,
    completed: ran ? v.completed : undefined,
    durationMs: ran && v.started !== undefined && v.completed !== undefined ? v.completed - v.started : 0,
    why: outcome === 'executed' || outcome === 'failed' ? v.why : undefined,
    opDigest: v.opDigest,
    keyParts: v.keyParts,
  };
}

function outcomeOf(v: VertexView, buildSucceeded: boolean): StepOutcome {
  switch (v.exec) {
    case 'done':
      return 'executed';
    case 'failed':
      return 'failed';
    case 'running':
      // Still running for another build: this one never needed it, or gave up on it.
      return buildSucceeded ? 'skipped' : 'canceled';
    case 'canceled':
      return 'canceled';
    case 'none':
      if (v.decision === 'hit') return 'cached';
      if (v.decision === 'miss' && buildSucceeded) return 'skipped';
      return 'canceled';
    default:
      return assertNever(v.exec, 'exec state');
  }
}

export function summarize(steps: readonly StepRecord[], started: number, completed: number): BuildSummary {
  const count = (o: StepOutcome): number => steps.filter((s) => s.outcome === o).length;
  return {
    total: steps.length,
    cached: count('cached'),
    executed: count('executed'),
    skipped: count('skipped'),
    failed: count('failed'),
    canceled: count('canceled'),
    started,
    completed,
    durationMs: completed - started,
    steps,
  };
}

export { describeMissReason } from './miss-reason.js';
