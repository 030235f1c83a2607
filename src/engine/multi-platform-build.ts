/**
 * A build for several target platforms (`--platform linux/amd64,linux/arm64`): the Dockerfile is
 * converted once per platform and the definitions are solved in parallel on the one solver, with
 * one build session. Steps that do not depend on the target (the context transfer, `FROM
 * --platform=$BUILDPLATFORM` stages up to their first use of a TARGET* ARG, COPY of their outputs)
 * come out as the same vertex in every definition, so the solver's shared vertices run them once
 * (the other platforms wait for that run). The results go out together (exporter/index-exporter.ts):
 * an image index in the store, an OCI archive with that index, a folder per platform.
 */
import { rm } from 'node:fs/promises';
import { convertDockerfile } from '../frontend/dockerfile/convert/convert.js';
import { requireRunnablePlatforms } from './platform-check.js';
import type { ConvertResult, NamedContext } from '../frontend/types.js';
import type { DockerfileAST } from '../frontend/dockerfile/ast.js';
import { formatPlatform, parsePlatform } from '../llb/platform.js';
import type { ProgressEvent, ProgressWriter } from '../progress/index.js';
import { summarize } from '../solver/summary.js';
import type { BuildSummary as SolverSummary, SolveResult, StepRecord } from '../solver/types.js';
import { solverGraph } from '../worker/ops/vertices.js';
import { snapshotOf } from '../worker/ops/worker-result.js';
import { checkMultiPlatformOutput, exportPlatforms, type PlatformExport } from '../exporter/index-exporter.js';
import type { OutputSpec } from '../exporter/types.js';
import { normalizeImageRef } from '../oci/reference.js';
import { UserInputError } from '../util/errors.js';
import { StepError, isCancellation } from '../solver/errors.js';
import type { BuildRegistry } from './build-registry.js';
import { withBaseImageHint, type MetadataSteps } from './front-end-steps.js';
import { HistoryRecorder } from './build-history-recorder.js';
import { exportEach } from './export-outputs.js';
import { buildSession, convertOptions, historyDockerfile, type BuildEngine, pushTargets, sinkStream, summaryOf, warningOf } from './build-parts.js';
import type { BuildOptions, BuildRequest, BuildResult, ExportResult } from './types.js';

/**
 * The distinct target platforms a request names (`platforms`, else `platform`), normalized
 * (`linux/x86_64` → `linux/amd64`), in the order given. Throws INVALID_PLATFORM.
 */
export function targetPlatforms(req: Pick<BuildRequest, 'platform' | 'platforms'>): string[] {
  const given = req.platforms && req.platforms.length > 0 ? req.platforms : req.platform !== undefined ? [req.platform] : [];
  const out: string[] = [];
  for (const spec of given.flatMap((p) => p.split(','))) {
    if (spec.trim() === '') continue;
    let p: string;
    try {
      p = formatPlatform(parsePlatform(spec));
    } catch (e) {
      throw new UserInputError('INVALID_PLATFORM', `--platform: ${(e as Error).message}`);
    }
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/**
 * One progress stream for the platforms' solves: a step shared by several of them is shown once,
 * by the solve that first reported it (the others only waited for its run).
 */
class SharedStepProgress {
  readonly #owner = new Map<string, number>();
  constructor(private readonly inner: ProgressWriter) {}

  writer(solve: number): ProgressWriter {
    return {
      write: (ev: ProgressEvent) => {
        const d = ev.type === 'vertex' ? ev.digest : 'vertex' in ev && typeof ev.vertex === 'string' ? ev.vertex : undefined;
        if (d !== undefined) {
          const owner = this.#owner.get(d) ?? solve;
          this.#owner.set(d, owner);
          if (owner !== solve) return;
        }
        this.inner.write(ev);
      },
    };
  }
}

const RANK: Readonly<Record<StepRecord['outcome'], number>> = { failed: 5, executed: 4, canceled: 3, cached: 2, skipped: 1 };

/** The platforms' step records as one build's: a shared step once, as the solve that ran it saw it. */
function mergeSummaries(summaries: readonly SolverSummary[], started: number): SolverSummary {
  const steps = new Map<string, StepRecord>();
  for (const s of summaries) {
    for (const st of s.steps) {
      const had = steps.get(st.digest);
      if (!had || RANK[st.outcome] > RANK[had.outcome]) steps.set(st.digest, st);
    }
  }
  return summarize([...steps.values()], started, Date.now());
}

/** What the single-platform front end already did: parse, ignore file, output checks. */
export interface FrontEnd {
  readonly req: BuildRequest;
  readonly opts: BuildOptions;
  readonly progress: ProgressWriter;
  readonly ast: DockerfileAST;
  readonly argNames: ReadonlySet<string>;
  readonly dockerignore: readonly string[];
  readonly namedContexts: ReadonlyMap<string, NamedContext>;
  readonly buildArgs: ReadonlyMap<string, string>;
  readonly outputs: readonly OutputSpec[];
  readonly metadata: MetadataSteps;
  readonly platforms: readonly string[];
}

export async function buildPlatforms(engine: BuildEngine, registry: BuildRegistry, f: FrontEnd): Promise<BuildResult> {
  const { req, progress } = f;
  const { signal } = f.opts;
  const services = engine.services;
  for (const o of f.outputs) checkMultiPlatformOutput(o);
  if ((req.cacheTo ?? []).some((c) => c.kind === 'inline')) {
    throw new UserInputError('MULTI_PLATFORM_INLINE_CACHE', '--cache-to type=inline is not supported for several platforms: use type=registry or type=local');
  }
  const converted: ConvertResult[] = [];
  for (const platform of f.platforms) {
    try {
      converted.push(await convertDockerfile(f.ast, convertOptions(req, { buildArgs: f.buildArgs, dockerignore: f.dockerignore, namedContexts: f.namedContexts, imageResolver: f.metadata.resolve, signal, platform, prefixPlatform: true })));
    } catch (e) {
      throw withBaseImageHint(e, f.metadata.failed);
    }
  }
  // Every platform's RUN steps must run here (natively or emulated) before any step runs.
  for (const c of converted) await requireRunnablePlatforms(engine.emulators, c.definition.loaded, signal);
  const seenWarnings = new Set<string>();
  const warnings = converted.flatMap((c) => c.warnings).filter((w) => !seenWarnings.has(w.message) && seenWarnings.add(w.message));
  for (const w of warnings) progress.write({ type: 'warning', message: w.message, timestamp: Date.now(), ...(w.location ? { location: w.location } : {}) });

  // One history entry for the build; its definition knows every platform's vertices.
  const first = converted[0] as ConvertResult;
  const vertices = new Map(converted.flatMap((c) => [...c.definition.loaded.vertices]));
  const recorder = new HistoryRecorder({
    history: services.storage.history,
    records: services.storage.records,
    dockerfile: historyDockerfile(req),
    description: `${req.tags.length > 0 ? req.tags.join(', ') : (req.target ?? req.dockerfile.name)} (${f.platforms.join(', ')})`,
    definition: { ...first.definition.loaded, vertices },
    argNames: f.argNames,
    keep: engine.historyKeep,
  });
  const session = buildSession(req, f.opts, f.buildArgs, recorder, registry);
  const graphs = converted.map((c) => solverGraph(c.definition.loaded, { services, session }));
  for (const g of graphs) recorder.useVertices(g.vertices);
  const started = Date.now();
  const solved: Array<SolveResult | undefined> = graphs.map(() => undefined);
  try {
    await registry.importCaches(signal);
    // The platforms' solves fail together: the first failure stops the others.
    const ac = new AbortController();
    const onAbort = (): void => ac.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const shared = new SharedStepProgress(progress);
    const summaries: Array<SolverSummary | undefined> = graphs.map(() => undefined);
    const runs = graphs.map(async (g, i) => {
      if (!g.target) return;
      try {
        solved[i] = await engine.solver.solve({
          target: g.target, signal: ac.signal, progress: shared.writer(i), explainMiss: recorder.explain, previousResult: recorder.previous, onSummary: (s) => (summaries[i] = s),
          label: `build ${req.ref ?? ''} ${f.platforms[i] ?? ''}`.replace(/\s+/g, ' ').trim(), ...registry.solveOptions(),
          // With an imported cache the solves bring their own store: still one scope, so shared steps run once.
          storeScope: session.id,
        });
      } catch (e) {
        ac.abort(e);
        throw e;
      }
    });
    const settled = await Promise.allSettled(runs);
    signal.removeEventListener('abort', onAbort);
    const done = summaries.filter((s): s is SolverSummary => s !== undefined);
    const summary = mergeSummaries(done, started);
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) {
      // The error of the solve that failed first, not a sibling's cancellation.
      const real = settled.map((s) => (s.status === 'rejected' ? s.reason as unknown : undefined)).find((e) => e !== undefined && !isCancellation(e)) ?? failure.reason;
      await recorder.record(summary, isCancellation(real) ? 'cancelled' : 'failed');
      if (real instanceof StepError) real.summary = summary;
      throw real;
    }
    await recorder.record(summary, 'succeeded');
    const parts: PlatformExport[] = converted.map((c, i) => ({
      platform: f.platforms[i] as string,
      req: {
        snapshot: solved[i] ? snapshotOf((solved[i] as SolveResult).result, 'build result') : undefined,
        config: c.image,
        names: req.tags.map(normalizeImageRef),
        attrs: new Map(),
        sourceDateEpoch: session.sourceDateEpoch,
      },
    }));
    const exports = await exportAll(engine, f, parts);
    const pushed = await registry.push(pushTargets(f.outputs, req.tags), signal);
    const finals = parts.map((p) => p.req.snapshot).filter((s): s is string => s !== undefined);
    await registry.exportCaches({ steps: summary.steps, finalSnapshot: finals[0], otherFinalSnapshots: finals.slice(1) }, signal);
    const firstExport = exports.find((e) => e.imageDigest);
    return {
      summary: summaryOf(summary),
      exports,
      ...(firstExport?.imageDigest !== undefined ? { imageDigest: firstExport.imageDigest } : {}),
      warnings: warnings.map(warningOf),
      pushed,
      remoteCache: registry.report(),
    };
  } finally {
    for (const s of solved) await s?.result.release();
    for (const d of session.scratch) await rm(d, { recursive: true, force: true }).catch(() => undefined);
  }
}

function exportAll(engine: BuildEngine, f: FrontEnd, parts: readonly PlatformExport[]): Promise<ExportResult[]> {
  return exportEach(f.outputs, {
    services: engine.services,
    progress: f.progress,
    stdout: f.opts.stdout ? sinkStream(f.opts.stdout) : undefined,
    signal: f.opts.signal,
    run: (out, ctx) => exportPlatforms(out, parts, ctx),
  });
}
