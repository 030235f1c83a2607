/**
 * Past builds as the client contract shows them (`tsbuild history --why`, the History RPC): the
 * build history's rows with their steps, newest first.
 */
import { DEFAULT_HISTORY_KEEP, unknownBuild, type BuildHistory } from '../cache/build-history.js';
import type { BuildRecord, HistoryStep } from '../cache/types.js';
import { UserInputError } from '../util/errors.js';
import type { BuildHistoryRequest, PastBuild, PastBuildStep } from './types.js';

/** TSBUILD_HISTORY_KEEP, else DEFAULT_HISTORY_KEEP: how many builds the history keeps. */
export function historyKeepFromEnv(env: NodeJS.ProcessEnv): number {
  const v = env['TSBUILD_HISTORY_KEEP'];
  if (v === undefined || v === '') return DEFAULT_HISTORY_KEEP;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UserInputError('INVALID_HISTORY_KEEP', `invalid TSBUILD_HISTORY_KEEP "${v}": expected a whole number of builds`);
  return n;
}

function stepOut(history: BuildHistory, buildId: string, s: HistoryStep, withFiles: boolean): PastBuildStep {
  const files = withFiles ? history.filesOf(buildId, s.index) : undefined;
  return {
    index: s.index,
    name: s.name,
    stage: s.stage,
    instruction: s.instruction,
    ...(s.cacheKey !== undefined ? { cacheKey: s.cacheKey } : {}),
    outcome: s.outcome,
    ...(s.why !== undefined ? { why: s.why } : {}),
    ...(s.startedAt !== undefined ? { started: s.startedAt } : {}),
    ...(s.finishedAt !== undefined ? { completed: s.finishedAt } : {}),
    durationMs: s.durationMs,
    ...(s.layerSize !== undefined ? { layerSize: s.layerSize } : {}),
    ...(s.bytesRead !== undefined ? { bytesRead: s.bytesRead } : {}),
    filesRead: s.filesCount,
    ...(files ? { files: files.map(([path]) => path) } : {}),
  };
}

function buildOut(history: BuildHistory, b: BuildRecord, withFiles: boolean): PastBuild {
  return {
    buildId: b.buildId,
    description: b.description,
    dockerfile: b.dockerfile,
    status: b.status,
    started: b.startedAt,
    ...(b.finishedAt !== undefined ? { completed: b.finishedAt } : {}),
    stepsTotal: b.stepsTotal,
    stepsCached: b.stepsCached,
    stepsExecuted: b.stepsExecuted,
    steps: history.steps(b.buildId).map((s) => stepOut(history, b.buildId, s, withFiles)),
    ...(b.layers ? { layers: b.layers.map((l) => ({ size: l.size, files: l.files, wastedBytes: l.wastedBytes })) } : {}),
  };
}

export function pastBuilds(history: BuildHistory, req: BuildHistoryRequest): PastBuild[] {
  if (req.buildId !== undefined && req.buildId !== '') {
    const b = history.get(req.buildId);
    if (!b) throw unknownBuild(req.buildId);
    return [buildOut(history, b, req.files === true)];
  }
  return history.list({ limit: req.limit ?? DEFAULT_HISTORY_KEEP }).map((b) => buildOut(history, b, req.files === true));
}
