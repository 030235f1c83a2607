/**
 * The data of `tsbuild report`: one past build's steps (cached or executed, and why), its
 * time-weighted cache-hit ratio, its image's layers and the bytes later layers hide. Pure, from the
 * client contract's PastBuild, so it works the same embedded and through tsbuildd. The JSON shape
 * is documented in docs/report.md; change both together.
 *
 * Time-weighted hit ratio = time saved / time the build would take cold. A step's cold time is its
 * own duration when it executed; when it was cached, the duration of the newest run of the same
 * cache key that executed, in any build the history still holds (unknown when none: it then counts
 * 0 in both sums, and `coldUnknown` says how many such steps there were).
 */
import type { PastBuild, PastBuildStep } from '../client/types.js';

export interface ReportStep {
  readonly name: string;
  readonly instruction: string;
  readonly stage: string;
  readonly outcome: PastBuildStep['outcome'];
  readonly durationMs: number;
  /** What the step takes when it executes; null when unknown. */
  readonly coldMs: number | null;
  /** coldMs - durationMs for a cached step, else 0. */
  readonly savedMs: number;
  readonly layerSize: number | null;
  readonly why: string | null;
}

export interface ReportLayer {
  /** 0 is the bottom (base image) layer. */
  readonly index: number;
  readonly size: number;
  readonly files: number;
  readonly wastedBytes: number;
}

export interface BuildReport {
  readonly buildId: string;
  readonly description: string;
  readonly dockerfile: string;
  readonly status: PastBuild['status'];
  readonly started: number;
  readonly durationMs: number | null;
  readonly stepsTotal: number;
  readonly stepsCached: number;
  readonly stepsExecuted: number;
  readonly hitRatio: { readonly timeSavedMs: number; readonly coldMs: number; readonly ratio: number | null; readonly coldUnknown: number };
  readonly steps: readonly ReportStep[];
  /** Null when the build recorded no layers (it failed, or the history came through tsbuildd). */
  readonly layers: readonly ReportLayer[] | null;
  readonly imageSize: number | null;
  readonly wastedBytes: number | null;
  /** `instruction: why` for every executed step. */
  readonly missReasons: readonly string[];
}

/** The report of `build`; `history` is every build the history holds (for cold durations). */
export function buildReport(build: PastBuild, history: readonly PastBuild[]): BuildReport {
  const lastRun = new Map<string, { started: number; ms: number }>();
  for (const b of history) {
    for (const s of b.steps) {
      if (s.outcome !== 'executed' || s.cacheKey === undefined) continue;
      const at = s.started ?? b.started;
      const cur = lastRun.get(s.cacheKey);
      if (!cur || at > cur.started) lastRun.set(s.cacheKey, { started: at, ms: s.durationMs });
    }
  }
  let saved = 0;
  let cold = 0;
  let unknown = 0;
  const steps = build.steps.filter((s) => s.stage !== '').map((s): ReportStep => {
    let coldMs: number | null = null;
    if (s.outcome === 'executed') coldMs = s.durationMs;
    else if (s.outcome === 'cached' && s.cacheKey !== undefined) coldMs = lastRun.get(s.cacheKey)?.ms ?? null;
    const savedMs = s.outcome === 'cached' && coldMs !== null ? Math.max(0, coldMs - s.durationMs) : 0;
    if (coldMs === null) unknown++;
    else cold += coldMs;
    saved += savedMs;
    return {
      name: s.name, instruction: s.instruction, stage: s.stage, outcome: s.outcome, durationMs: s.durationMs,
      coldMs, savedMs, layerSize: s.layerSize ?? null, why: s.outcome === 'cached' ? null : (s.why ?? null),
    };
  });
  const layers = build.layers ? build.layers.map((l, index): ReportLayer => ({ index, size: l.size, files: l.files, wastedBytes: l.wastedBytes })) : null;
  return {
    buildId: build.buildId,
    description: build.description,
    dockerfile: build.dockerfile,
    status: build.status,
    started: build.started,
    durationMs: build.completed !== undefined ? build.completed - build.started : null,
    stepsTotal: build.stepsTotal,
    stepsCached: build.stepsCached,
    stepsExecuted: build.stepsExecuted,
    hitRatio: { timeSavedMs: saved, coldMs: cold, ratio: cold > 0 ? saved / cold : null, coldUnknown: unknown },
    steps,
    layers,
    imageSize: layers ? layers.reduce((n, l) => n + l.size, 0) : null,
    wastedBytes: layers ? layers.reduce((n, l) => n + l.wastedBytes, 0) : null,
    missReasons: steps.filter((s) => s.outcome === 'executed').map((s) => `${s.instruction}: ${s.why ?? 'executed'}`),
  };
}
