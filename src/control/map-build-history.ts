/**
 * The History RPC (past builds) between proto messages and the client contract, daemon side:
 * HistoryRequest → BuildHistoryRequest, PastBuild → BuildRecord. The client maps them back with
 * src/client/grpc-build-history.ts. Proto has no optional scalars: unset numbers travel as -1 (sizes)
 * or 0 (times), unset strings as "".
 */
import { tsbuild } from '../client/gen/control.js';
import type { BuildHistoryRequest, PastBuild, PastBuildStatus, PastBuildStep, PastStepOutcome } from '../client/types.js';

const pb = tsbuild.control.v1;
type Wire<T extends keyof typeof pb> = (typeof pb)[T] extends { encode(m: infer M, ...rest: never[]): unknown } ? M : never;

const STATUS_TO_WIRE: Readonly<Record<PastBuildStatus, tsbuild.control.v1.BuildStatus>> = {
  running: pb.BuildStatus.BUILD_STATUS_RUNNING,
  succeeded: pb.BuildStatus.BUILD_STATUS_SUCCEEDED,
  failed: pb.BuildStatus.BUILD_STATUS_FAILED,
  cancelled: pb.BuildStatus.BUILD_STATUS_CANCELLED,
};

const OUTCOME_TO_WIRE: Readonly<Record<PastStepOutcome, tsbuild.control.v1.StepOutcome>> = {
  cached: pb.StepOutcome.STEP_OUTCOME_CACHED,
  executed: pb.StepOutcome.STEP_OUTCOME_EXECUTED,
  skipped: pb.StepOutcome.STEP_OUTCOME_SKIPPED,
  failed: pb.StepOutcome.STEP_OUTCOME_FAILED,
  canceled: pb.StepOutcome.STEP_OUTCOME_CANCELED,
};

export function buildHistoryIn(req: Wire<'HistoryRequest'>): BuildHistoryRequest {
  return { ...(req.buildId ? { buildId: req.buildId } : {}), ...(req.limit ? { limit: req.limit } : {}), ...(req.files ? { files: true } : {}) };
}

function stepOut(s: PastBuildStep): Wire<'BuildStep'> {
  return {
    index: s.index,
    vertexDigest: '',
    name: s.name,
    cacheKey: s.cacheKey ?? '',
    cached: s.outcome === 'cached',
    reason: s.why ?? '',
    startedMs: s.started ?? 0,
    finishedMs: s.completed ?? 0,
    stage: s.stage,
    instruction: s.instruction,
    outcome: OUTCOME_TO_WIRE[s.outcome],
    durationMs: s.durationMs,
    layerSize: s.layerSize ?? -1,
    bytesRead: s.bytesRead ?? -1,
    filesRead: s.filesRead,
    files: [...(s.files ?? [])],
  };
}

export function pastBuildOut(b: PastBuild): Wire<'BuildRecord'> {
  return {
    buildId: b.buildId,
    description: b.description,
    status: STATUS_TO_WIRE[b.status],
    startedMs: b.started,
    finishedMs: b.completed ?? 0,
    stepsTotal: b.stepsTotal,
    stepsCached: b.stepsCached,
    stepsExecuted: b.stepsExecuted,
    steps: b.steps.map(stepOut),
    dockerfile: b.dockerfile,
    layers: (b.layers ?? []).map((l) => ({ size: l.size, files: l.files, wastedBytes: l.wastedBytes })),
  };
}
