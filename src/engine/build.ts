/**
 * One build: Dockerfile → LLB (frontend) → results (solver + worker) → outputs (exporters).
 * Everything the build mounts, leases or writes to scratch is released when it ends, also on
 * failure and cancellation.
 */
import { rm } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseDockerfileAsync } from '../frontend/dockerfile/parse.js';
import { convertDockerfile } from '../frontend/dockerfile/convert/convert.js';
import { startVertex, type ProgressWriter } from '../progress/index.js';
import type { BuildSummary as SolverSummary } from '../solver/types.js';
import { solverGraph } from '../worker/ops/vertices.js';
import { snapshotOf } from '../worker/ops/worker-result.js';
import type { OutputSpec } from '../exporter/types.js';
import { normalizeImageRef } from '../oci/reference.js';
import { buildPlatforms, targetPlatforms } from './multi-platform-build.js';
import { EagerLayers } from './eager-layers.js';
import { buildSession, convertOptions, historyDockerfile, normalizeOutputs, type BuildEngine, pushFlag, pushNames, pushTargets, sinkStream, summaryOf, warningOf } from './build-parts.js';
import type { ImageConfig } from '../oci/types.js';
import { TsbuildError, UserInputError } from '../util/errors.js';
import { BuildRegistry } from './build-registry.js';
import { layerOptions } from '../exporter/image-build.js';
import { checkedAnnotations } from '../exporter/annotations.js';
import { loadDockerignoreStep, MetadataSteps, withBaseImageHint } from './front-end-steps.js';
import { HistoryRecorder } from './build-history-recorder.js';
import { StepError, isCancellation } from '../solver/errors.js';
import { layerLimitWarning } from './layer-limit.js';
import { exportEach } from './export-outputs.js';
import { dockerfileBytes, dockerignoreOptions } from './dockerfile-tools.js';
import { namedContextsOf } from './named-contexts.js';
import { requireRunnablePlatforms } from './platform-check.js';
import type { BuildOptions, BuildResult, ExportResult, ReceivedContext, ReceivingBuildRequest } from './types.js';


/** The request as the build runs it: the Dockerfile's bytes decoded, attribute maps made Maps. */
interface Build {
  readonly req: ReceivingBuildRequest;
  readonly dockerfile: Buffer;
  readonly outputs: readonly OutputSpec[];
  readonly opts: BuildOptions;
  readonly progress: ProgressWriter;
  /** The context directory is still being filled until this resolves (Engine.buildReceiving). */
  readonly context?: Promise<ReceivedContext>;
}


export async function runBuild(engine: BuildEngine, req: ReceivingBuildRequest, opts: BuildOptions, context?: Promise<ReceivedContext>): Promise<BuildResult> {
  const dockerfile = dockerfileBytes(req.dockerfile);
  const onProgress = opts.onProgress;
  const progress: ProgressWriter = { write: onProgress ? (e) => onProgress(e) : () => undefined };
  const outputs = req.outputs.map((o) => ({ type: o.type, attrs: new Map(Object.entries(o.attrs)) }));
  try {
    return await build(engine, { req, dockerfile, outputs, opts, progress, ...(context ? { context } : {}) });
  } catch (e) {
    // Errors located in the Dockerfile show the offending line under the message.
    if (e instanceof TsbuildError) e.attachSource(req.dockerfile.name, dockerfile.toString('utf8').split(/\r?\n/));
    throw e;
  }
}




async function build(engine: BuildEngine, b: Build): Promise<BuildResult> {
  const { req } = b;
  const registry = new BuildRegistry({
    services: engine.services,
    access: req.registry ?? {},
    ...(b.opts.credentials ? { credentials: b.opts.credentials } : {}),
    pull: req.pull ?? false,
    cacheFrom: req.cacheFrom ?? [],
    cacheTo: req.cacheTo ?? [],
    progress: b.progress,
  });
  try {
    return await buildWith(engine, registry, b);
  } finally {
    registry.close();
  }
}


async function buildWith(engine: BuildEngine, registry: BuildRegistry, b: Build): Promise<BuildResult> {
  const { req, progress } = b;
  const { signal } = b.opts;
  const services = engine.services;
  const storage = services.storage;
  // Bad output/push settings fail before anything is built.
  const outputs = normalizeOutputs(b.outputs, req);
  let indexAnnotations = false;
  for (const o of outputs) {
    if (o.type === 'image' && pushFlag(o) && pushNames(o, req.tags).length === 0) {
      throw new UserInputError('PUSH_NO_NAME', 'pushing needs an image name: add -t NAME (or name=NAME to the image output)');
    }
    if (IMAGE_OUTPUTS.has(o.type)) {
      layerOptions(o.attrs);
      indexAnnotations ||= checkedAnnotations(o.type, o.attrs).some((a) => a.target === 'index');
    }
  }
  const buildArgs = new Map(Object.entries(req.buildArgs));

  // Front end, as BuildKit shows it: the definition loads (read and parse), then the ignore file,
  // then one metadata step per base image (local store, else the registry) while converting.
  const load = startVertex(progress, { name: `[internal] load build definition from ${req.dockerfile.name}` });
  const argNames = new Set<string>();
  let ast;
  try {
    const now = Date.now();
    load.progress.status({ id: 'transferring dockerfile:', name: 'transferring dockerfile:', current: b.dockerfile.length, started: now, completed: now });
    ast = await parseDockerfileAsync(b.dockerfile, { file: req.dockerfile.name, signal });
    for (const n of ast.children) if (n.keyword.toUpperCase() === 'ARG') for (const a of n.args) argNames.add(a.split('=')[0] ?? a);
    for (const w of ast.warnings) progress.write({ type: 'warning', message: w.message, location: { file: req.dockerfile.name, line: w.line, column: 1 }, timestamp: Date.now() });
    load.done();
  } catch (e) {
    load.fail(e);
    throw e;
  }
  const ignore = await loadDockerignoreStep(progress, dockerignoreOptions(req, signal));
  const namedContexts = await namedContextsOf(req.namedContexts, signal);
  // Base images absent locally (or all of them with --pull) are resolved at their registry; their
  // layers are downloaded only if the FROM step runs.
  const platforms = targetPlatforms(req);
  const metadata = new MetadataSteps(progress, async (ref, o) => (await registry.images.resolve(ref, { signal: o.signal ?? signal, ...(o.platform ? { platform: o.platform } : {}) })).config, platforms.length > 1);
  if (platforms.length <= 1 && indexAnnotations) {
    progress.write({ type: 'warning', message: 'annotation-index.* (--annotation index:…) has no image index to go on: one platform is built, as one image; ignored', timestamp: Date.now() });
  }
  if (platforms.length > 1) {
    // One solve per platform, each reading the context: it must be complete first.
    const received = b.context ? await b.context : {};
    return buildPlatforms(engine, registry, { req: { ...req, ...received }, opts: b.opts, progress, ast, argNames, dockerignore: ignore.patterns, namedContexts, buildArgs, outputs, metadata, platforms });
  }
  let converted;
  try {
    converted = await convertDockerfile(ast, convertOptions(req, { buildArgs, dockerignore: ignore.patterns, namedContexts, imageResolver: metadata.resolve, signal }));
  } catch (e) {
    throw withBaseImageHint(e, metadata.failed);
  }
  await requireRunnablePlatforms(engine.emulators, converted.definition.loaded, signal);
  for (const message of registry.images.platformWarnings) progress.write({ type: 'warning', message: `InvalidBaseImagePlatform: ${message}`, timestamp: Date.now() });
  for (const w of converted.warnings) {
    progress.write({ type: 'warning', message: w.message, timestamp: Date.now(), ...(w.location ? { location: w.location } : {}) });
  }

  const recorder = new HistoryRecorder({
    history: storage.history,
    records: storage.records,
    dockerfile: historyDockerfile(req),
    description: req.tags.length > 0 ? req.tags.join(', ') : (req.target ?? req.dockerfile.name),
    definition: converted.definition.loaded,
    argNames,
    keep: engine.historyKeep,
  });
  const eager = new EagerLayers(services, signal);
  const session = buildSession(req, b.opts, buildArgs, recorder, registry, { layerCommitted: eager.committed, processStarted: eager.processStarted }, b.context);
  const graph = solverGraph(converted.definition.loaded, { services, session });
  recorder.useVertices(graph.vertices);
  if (graph.target && session.sourceDateEpoch === undefined && outputs.some((o) => o.type === 'image')) eager.enable(graph.target.vertex);
  try {
    await registry.importCaches(signal);
    let snapshot: string | undefined;
    let summary: SolverSummary;
    const finish = async (): Promise<BuildResult> => {
      const built = { steps: summary.steps, finalSnapshot: snapshot };
      if (snapshot !== undefined && outputs.some((o) => IMAGE_OUTPUTS.has(o.type))) {
        const warning = layerLimitWarning((await services.snapshotter.chain(snapshot)).length);
        if (warning) progress.write(warning);
      }
      const inline = await registry.inlineField(built, signal);
      const config = inline ? ({ ...converted.image, ...inline } as ImageConfig) : converted.image;
      const exports = await exportAll(engine, b, outputs, { snapshot, config, epoch: session.sourceDateEpoch });
      const pushed = await registry.push(pushTargets(outputs, req.tags), signal);
      await registry.exportCaches(built, signal);
      const first = exports.find((e) => e.imageDigest);
      // A pushed image's digest is the registry's (its layers compressed on the way), as BuildKit
      // reports `containerimage.digest`; the local store keeps the uncompressed manifest.
      const imageDigest = pushed[0]?.digest ?? first?.imageDigest;
      return {
        summary: summaryOf(summary),
        exports,
        ...(imageDigest !== undefined ? { imageDigest } : {}),
        ...(first?.configDigest !== undefined ? { configDigest: first.configDigest } : {}),
        warnings: converted.warnings.map(warningOf),
        pushed,
        remoteCache: registry.report(),
      };
    };
    if (graph.target) {
      let solved;
      let solvedSummary: SolverSummary | undefined;
      try {
        solved = await engine.solver.solve({
          target: graph.target, signal, progress, explainMiss: recorder.explain, previousResult: recorder.previous, onSummary: (s) => (solvedSummary = s),
          ...(req.ref ? { label: `build ${req.ref}` } : {}), ...registry.solveOptions(),
        });
      } catch (e) {
        await recorder.record(solvedSummary ?? (e instanceof StepError ? e.summary : undefined), isCancellation(e) ? 'cancelled' : 'failed');
        throw e;
      }
      summary = solved.summary;
      try {
        snapshot = snapshotOf(solved.result, 'build result');
        eager.flush();
        // One turn of the event loop before the history's and the export's work: the last step's
        // layer blob (eager-layers.ts) gets its tar made and its fsync under way meanwhile. From
        // the step's result to here, and on through the history and the export's claims, is one
        // chain of promise jobs, and the blob's stream steps (process.nextTick) only ran after it:
        // the export then waited for all of that tar, its hash and its fsync (issue 14).
        await nextTurn();
        // The history's record is made beside the export (its layer figures and its write fill the
        // export's waits for the last layer's tar and fsyncs; before it, they were ~2-4 ms of a
        // one-file edit's critical path, issue 14). Best effort, as the history is: a report
        // without layers beats a failed build, and a failed record never fails the build.
        const done = summary;
        const recorded = (async () => {
          const layers = snapshot !== undefined ? await engine.layerUsages.get(services.snapshotter, snapshot, signal).catch(() => undefined) : undefined;
          await recorder.record(done, 'succeeded', layers);
        })().catch(() => undefined);
        try {
          return await finish();
        } finally {
          await recorded;
        }
      } finally {
        await solved.result.release();
      }
    }
    summary = { total: 0, cached: 0, executed: 0, skipped: 0, failed: 0, canceled: 0, started: Date.now(), completed: Date.now(), durationMs: 0, steps: [] };
    return await finish();
  } finally {
    await eager.close();
    for (const d of session.scratch) await rm(d, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Outputs that make an image someone will run (a local/tar output is a filesystem). */
const IMAGE_OUTPUTS: ReadonlySet<string> = new Set(['image', 'oci', 'docker', 'registry']);

interface Solved {
  readonly snapshot: string | undefined;
  readonly config: ImageConfig;
  readonly epoch: number | undefined;
}

function exportAll(engine: BuildEngine, b: Build, outputs: readonly OutputSpec[], solved: Solved): Promise<ExportResult[]> {
  const names = b.req.tags.map(normalizeImageRef);
  return exportEach(outputs, {
    services: engine.services,
    progress: b.progress,
    stdout: b.opts.stdout ? sinkStream(b.opts.stdout) : undefined,
    signal: b.opts.signal,
    run: (out, ctx) =>
      engine.exporters.get(out.type).export({ snapshot: solved.snapshot, config: solved.config, names, attrs: out.attrs, sourceDateEpoch: solved.epoch }, ctx),
    committed: (res, v, out) => {
      if (!res.imageDigest || out.type === 'image') return;
      v.progress.status({ id: `exporting manifest ${res.imageDigest}`, current: 0, completed: Date.now() });
      if (res.configDigest) v.progress.status({ id: `exporting config ${res.configDigest}`, current: 0, completed: Date.now() });
    },
  });
}
