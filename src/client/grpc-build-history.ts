/**
 * The History RPC (past builds) between the client contract and proto messages, client side:
 * BuildHistoryRequest → HistoryRequest, BuildRecord → PastBuild (the daemon's side is
 * src/control/map-build-history.ts). Sizes of -1 and times of 0 mean unset.
 */
import type { BuildHistoryRequest, PastBuild, PastBuildStatus, PastBuildStep, PastStepOutcome } from './build-history-types.js';
import { tsbuild } from './gen/control.js';

const pb = tsbuild.control.v1;
type Wire<T extends keyof typeof pb> = (typeof pb)[T] extends { encode(m: infer M, ...rest: never[]): unknown } ? M : never;

const STATUS_FROM_WIRE = new Map<number, PastBuildStatus>([
  [pb.BuildStatus.BUILD_STATUS_RUNNING, 'running'],
  [pb.BuildStatus.BUILD_STATUS_SUCCEEDED, 'succeeded'],
  [pb.BuildStatus.BUILD_STATUS_FAILED, 'failed'],
  [pb.BuildStatus.BUILD_STATUS_CANCELLED, 'cancelled'],
]);

const OUTCOME_FROM_WIRE = new Map<number, PastStepOutcome>([
  [pb.StepOutcome.STEP_OUTCOME_CACHED, 'cached'],
  [pb.StepOutcome.STEP_OUTCOME_EXECUTED, 'executed'],
  [pb.StepOutcome.STEP_OUTCOME_SKIPPED, 'skipped'],
  [pb.StepOutcome.STEP_OUTCOME_FAILED, 'failed'],
  [pb.StepOutcome.STEP_OUTCOME_CANCELED, 'canceled'],
]);

export function buildHistoryOut(req: BuildHistoryRequest): Wire<'HistoryRequest'> {
  return { buildId: req.buildId ?? '', limit: req.limit ?? 0, steps: true, files: req.files === true };
}

function num(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function stepIn(s: Wire<'BuildStep'>): PastBuildStep {
  const started = num(s.startedMs);
  const completed = num(s.finishedMs);
  const layerSize = num(s.layerSize);
  const bytesRead = num(s.bytesRead);
  return {
    index: s.index ?? 0,
    name: s.name ?? '',
    stage: s.stage ?? '',
    instruction: s.instruction ?? '',
    ...(s.cacheKey ? { cacheKey: s.cacheKey } : {}),
    outcome: OUTCOME_FROM_WIRE.get(s.outcome ?? 0) ?? (s.cached ? 'cached' : 'executed'),
    ...(s.reason ? { why: s.reason } : {}),
    ...(started ? { started } : {}),
    ...(completed ? { completed } : {}),
    durationMs: num(s.durationMs),
    ...(layerSize >= 0 ? { layerSize } : {}),
    ...(bytesRead >= 0 ? { bytesRead } : {}),
    filesRead: s.filesRead ?? 0,
    ...(s.files?.length ? { files: [...s.files] } : {}),
  };
}

export function pastBuildIn(b: Wire<'BuildRecord'>): PastBuild {
  const completed = num(b.finishedMs);
  return {
    buildId: b.buildId ?? '',
    description: b.description ?? '',
    dockerfile: b.dockerfile ?? '',
    status: STATUS_FROM_WIRE.get(b.status ?? 0) ?? 'failed',
    started: num(b.startedMs),
    ...(completed ? { completed } : {}),
    stepsTotal: b.stepsTotal ?? 0,
    stepsCached: b.stepsCached ?? 0,
    stepsExecuted: b.stepsExecuted ?? 0,
    steps: (b.steps ?? []).map(stepIn),
    ...(b.layers?.length ? { layers: b.layers.map((l) => ({ size: num(l.size), files: l.files ?? 0, wastedBytes: num(l.wastedBytes) })) } : {}),
  };
}
