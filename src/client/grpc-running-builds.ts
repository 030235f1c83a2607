/**
 * ListBuilds' rows (tsbuild.control.v1.RunningBuild) → the contract's RunningBuildSummary. Apart
 * from grpc-map-responses.ts so the running-builds RPCs stay in files of their own.
 */
import type { tsbuild } from './gen/control.js';
import type { RunningBuildSummary } from './types.js';

type WireRunningBuild = tsbuild.control.v1.RunningBuild.$Properties;

export function runningBuildIn(b: WireRunningBuild): RunningBuildSummary {
  return {
    ref: b.ref ?? '',
    client: b.client ?? '',
    tags: [...(b.tags ?? [])],
    target: b.target ?? '',
    dockerfile: b.dockerfile ?? '',
    startedMs: b.startedMs ?? 0,
    steps: { total: b.verticesTotal ?? 0, done: b.verticesDone ?? 0, cached: b.verticesCached ?? 0 },
    attached: b.attached ?? 0,
  };
}
