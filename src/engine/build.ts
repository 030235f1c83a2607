/**
 * One build: Dockerfile → LLB (frontend) → results (solver + worker) → outputs (exporters).
 * Everything the build mounts, leases or writes to scratch is released when it ends, also on
 * failure and cancellation.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { parseDockerfileAsync } from '../frontend/dockerfile/parse.js';
import { convertDockerfile } from '../frontend/dockerfile/convert/convert.js';
import { loadDockerignore } from '../frontend/dockerignore.js';
import type { ConvertWarning } from '../frontend/types.js';
import { startVertex, type ProgressWriter } from '../progress/index.js';
import type { BuildSummary } from '../solver/types.js';
import { SecretStore, type SecretSource } from '../worker/exec/secrets.js';
import { solverGraph } from '../worker/ops/vertices.js';
import { snapshotOf } from '../worker/ops/worker-result.js';
import type { BuildSession } from '../worker/ops/context.js';
import type { ExportResponse, OutputSpec } from '../exporter/types.js';
import type { CacheExportSpec, CacheImportSpec } from '../cache/remote/types.js';
import { normalizeImageRef } from '../llb/image-ref.js';
import type { ImageConfig } from '../oci/types.js';
import { CancelledError, TsbuildError, UserInputError, throwIfAborted } from '../util/errors.js';
import type { Engine } from './engine.js';
import { BuildRegistry, type RemoteCacheReport } from './build-registry.js';
import { layerLimitWarning } from './layer-limit.js';
import { ExportOutputs, exportError } from './export-outputs.js';
import type { PushSummary } from './image-push.js';
import type { RegistryAccess } from './registry-access.js';

export interface DockerfileInput {
  readonly content: Buffer;
  /** The path as the user gave it (error locations use it). */
  readonly name: string;
  /** Absolute path on disk (for `<Dockerfile>.dockerignore`); undefined when read from stdin. */
  readonly path: string | undefined;
}

export interface BuildRequest {
  /** The build context directory (a stdin tarball is unpacked by the client first). */
  readonly contextDir: string;
  readonly dockerfile: DockerfileInput;
  readonly target?: string;
  readonly buildArgs: ReadonlyMap<string, string>;
  readonly labels: ReadonlyMap<string, string>;
  readonly noCache: boolean;
  readonly noCacheFilter: readonly string[];
  readonly platform?: string;
  /**
   * Network for RUN steps without --network (or with `--network=default`): `default` is a private
   * namespace with outbound access (the executor's `sandbox`), `host` the host's, `none` loopback only.
   */
  readonly network: 'default' | 'none' | 'host';
  readonly secrets: ReadonlyMap<string, SecretSource>;
  readonly ssh: ReadonlyMap<string, string>;
  /** The client's environment, for env-sourced secrets. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `-t` names as given. */
  readonly tags: readonly string[];
  readonly outputs: readonly OutputSpec[];
  readonly allowInsecure?: boolean;
  /** Where `dest=-` outputs go. */
  readonly stdout?: Writable;
  /** `--pull`: resolve every base image at its registry (downloading it when it changed). Default false. */
  readonly pull?: boolean;
  /** `--push`: push the image to each of its names' registries (as `-o type=image,push=true`). Default false. */
  readonly push?: boolean;
  /** `--cache-from`: caches to import (metadata now, blobs when a result is used). */
  readonly cacheFrom?: readonly CacheImportSpec[];
  /** `--cache-to`: where to export this build's cache. */
  readonly cacheTo?: readonly CacheExportSpec[];
  /** How registries are reached (`--insecure-registry`, `--registry-ca`); credentials come from `env`. */
  readonly registry?: Omit<RegistryAccess, 'env'>;
}

export interface BuildResult {
  readonly summary: BuildSummary;
  readonly exports: readonly ExportResponse[];
  /** Manifest digest of the first image output. */
  readonly imageDigest: string | undefined;
  readonly configDigest: string | undefined;
  readonly warnings: readonly ConvertWarning[];
  /** Names pushed (`--push`, `push=true`), with the digest the registry serves. */
  readonly pushed: readonly PushSummary[];
  /** What `--cache-from` / `--cache-to` did. */
  readonly remoteCache: RemoteCacheReport;
}

export interface BuildRunOptions {
  readonly signal: AbortSignal;
  readonly progress: ProgressWriter;
}

function sourceDateEpoch(args: ReadonlyMap<string, string>): number | undefined {
  const v = args.get('SOURCE_DATE_EPOCH');
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UserInputError('INVALID_SOURCE_DATE_EPOCH', `invalid SOURCE_DATE_EPOCH "${v}": expected whole seconds since 1970`);
  return n;
}

export async function runBuild(engine: Engine, req: BuildRequest, opts: BuildRunOptions): Promise<BuildResult> {
  try {
    return await build(engine, req, opts);
  } catch (e) {
    // Errors located in the Dockerfile show the offending line under the message.
    if (e instanceof TsbuildError) e.attachSource(req.dockerfile.name, req.dockerfile.content.toString('utf8').split(/\r?\n/));
    throw e;
  }
}

/**
 * The outputs with `type=registry` (buildx's name for a pushed image) and `--push` folded into
 * image outputs with `push=true`.
 */
export function normalizeOutputs(req: Pick<BuildRequest, 'outputs' | 'tags' | 'push'>): OutputSpec[] {
  const outputs: OutputSpec[] = req.outputs.map((o) => (o.type === 'registry' ? { type: 'image', attrs: new Map([...o.attrs, ['push', 'true']]) } : o));
  if (req.push) {
    if (!outputs.some((o) => o.type === 'image')) outputs.push({ type: 'image', attrs: new Map([['push', 'true']]) });
    else for (const [i, o] of outputs.entries()) if (o.type === 'image') outputs[i] = { type: 'image', attrs: new Map([...o.attrs, ['push', 'true']]) };
  }
  if (outputs.length === 0 && req.tags.length > 0) outputs.push({ type: 'image', attrs: new Map() });
  return outputs;
}

function pushFlag(o: OutputSpec): boolean {
  const v = o.attrs.get('push');
  if (v === undefined || v === 'false') return false;
  if (v === 'true' || v === '') return true;
  throw new UserInputError('INVALID_OUTPUT', `invalid push=${v} for type=${o.type}: expected true or false`);
}

/** Names an image output pushes: the `-t` names and its own `name=`. */
function pushNames(o: OutputSpec, tags: readonly string[]): string[] {
  return [...new Set([...tags, ...(o.attrs.get('name')?.split(',').filter(Boolean) ?? [])].map(normalizeImageRef))];
}

async function build(engine: Engine, req: BuildRequest, opts: BuildRunOptions): Promise<BuildResult> {
  const registry = new BuildRegistry({
    services: engine.services,
    access: { ...req.registry, env: req.env },
    pull: req.pull ?? false,
    cacheFrom: req.cacheFrom ?? [],
    cacheTo: req.cacheTo ?? [],
    progress: opts.progress,
  });
  try {
    return await buildWith(engine, registry, req, opts);
  } finally {
    registry.close();
  }
}

async function buildWith(engine: Engine, registry: BuildRegistry, req: BuildRequest, opts: BuildRunOptions): Promise<BuildResult> {
  const { signal, progress } = opts;
  const services = engine.services;
  const storage = services.storage;
  // Bad output/push settings fail before anything is built.
  const outputs = normalizeOutputs(req);
  for (const o of outputs) {
    if (o.type === 'image' && pushFlag(o) && pushNames(o, req.tags).length === 0) {
      throw new UserInputError('PUSH_NO_NAME', 'pushing needs an image name: add -t NAME (or name=NAME to the image output)');
    }
  }

  // Front end: parse, .dockerignore, convert (base image configs: local store, else the registry).
  const load = startVertex(progress, { name: `[internal] load build definition from ${req.dockerfile.name}` });
  let converted;
  let ignore;
  try {
    const ast = await parseDockerfileAsync(req.dockerfile.content, { file: req.dockerfile.name, signal });
    for (const w of ast.warnings) progress.write({ type: 'warning', message: w.message, location: { file: req.dockerfile.name, line: w.line, column: 1 }, timestamp: Date.now() });
    ignore = await loadDockerignore({ contextDir: req.contextDir, signal, ...(req.dockerfile.path ? { dockerfilePath: req.dockerfile.path } : {}) });
    converted = await convertDockerfile(ast, {
      buildArgs: req.buildArgs,
      labels: req.labels,
      noCache: req.noCache,
      noCacheFilter: req.noCacheFilter,
      dockerignore: ignore.patterns,
      signal,
      ...(req.target !== undefined ? { target: req.target } : {}),
      ...(req.platform !== undefined ? { platform: req.platform } : {}),
      // Base images absent locally (or all of them with --pull) are resolved at their registry;
      // their layers are downloaded only if the FROM step runs.
      imageResolver: async (ref, o) => (await registry.images.resolve(ref, { signal: o.signal ?? signal })).config,
    });
    load.done();
  } catch (e) {
    load.fail(e);
    throw e;
  }
  for (const w of converted.warnings) {
    progress.write({ type: 'warning', message: w.message, timestamp: Date.now(), ...(w.location ? { location: w.location } : {}) });
  }

  const session: BuildSession = {
    id: randomBytes(16).toString('hex'),
    locals: new Map([['context', resolve(req.contextDir)]]),
    secrets: new SecretStore({ sources: req.secrets, env: req.env }),
    ssh: req.ssh,
    defaultNetwork: req.network === 'default' ? 'sandbox' : req.network,
    allowInsecure: req.allowInsecure ?? false,
    sourceDateEpoch: sourceDateEpoch(req.buildArgs),
    scratch: [],
    images: registry.images,
  };
  const graph = solverGraph(converted.definition.loaded, { services, session });
  try {
    await registry.importCaches(signal);
    let snapshot: string | undefined;
    let summary: BuildSummary;
    const finish = async (): Promise<BuildResult> => {
      const build = { steps: summary.steps, finalSnapshot: snapshot };
      if (snapshot !== undefined && outputs.some((o) => IMAGE_OUTPUTS.has(o.type))) {
        const warning = layerLimitWarning((await services.snapshotter.chain(snapshot)).length);
        if (warning) progress.write(warning);
      }
      const inline = await registry.inlineField(build, signal);
      const config = inline ? ({ ...converted.image, ...inline } as ImageConfig) : converted.image;
      const res = await exportAll(engine, req, outputs, { snapshot, summary, warnings: converted.warnings, config, epoch: session.sourceDateEpoch }, opts);
      const pushed = await registry.push([...new Set(outputs.filter((o) => o.type === 'image' && pushFlag(o)).flatMap((o) => pushNames(o, req.tags)))], signal);
      await registry.exportCaches(build, signal);
      return { ...res, pushed, remoteCache: registry.report() };
    };
    if (graph.target) {
      const solved = await engine.solver.solve({ target: graph.target, signal, progress, ...registry.solveOptions() });
      summary = solved.summary;
      try {
        snapshot = snapshotOf(solved.result, 'build result');
        return await finish();
      } finally {
        await solved.result.release();
      }
    }
    summary = { total: 0, cached: 0, executed: 0, skipped: 0, failed: 0, canceled: 0, started: Date.now(), completed: Date.now(), durationMs: 0, steps: [] };
    return await finish();
  } finally {
    for (const d of session.scratch) await rm(d, { recursive: true, force: true }).catch(() => undefined);
    await storage.maybeGc().catch(() => undefined);
  }
}

/** Outputs that make an image someone will run (a local/tar output is a filesystem). */
const IMAGE_OUTPUTS: ReadonlySet<string> = new Set(['image', 'oci', 'docker', 'registry']);

interface Solved {
  readonly snapshot: string | undefined;
  readonly summary: BuildSummary;
  readonly warnings: readonly ConvertWarning[];
  readonly config: ImageConfig;
  readonly epoch: number | undefined;
}

type Exported = Omit<BuildResult, 'pushed' | 'remoteCache'>;

async function exportAll(engine: Engine, req: BuildRequest, outputs: readonly OutputSpec[], solved: Solved, opts: BuildRunOptions): Promise<Exported> {
  const names = req.tags.map(normalizeImageRef);
  const exports: ExportResponse[] = [];
  for (const out of outputs) {
    throwIfAborted(opts.signal);
    const exporter = engine.exporters.get(out.type);
    const label = out.type === 'image' ? 'exporting to image' : `exporting to ${out.type}${out.attrs.get('dest') ? ` ${out.attrs.get('dest')}` : ''}`;
    const v = startVertex(opts.progress, { name: label });
    const files = new ExportOutputs(req.stdout);
    try {
      const res = await exporter.export(
        { snapshot: solved.snapshot, config: solved.config, names, attrs: out.attrs, sourceDateEpoch: solved.epoch },
        {
          storage: engine.services.storage,
          snapshotter: engine.services.snapshotter,
          differ: engine.services.differ,
          tmpDir: engine.services.tmpDir,
          signal: opts.signal,
          progress: v.progress,
          openOutput: (dest) => files.open(dest),
        },
      );
      await files.commit();
      if (res.imageDigest) v.progress.log(1, `writing image ${res.imageDigest} done\n`);
      v.done();
      exports.push(res);
    } catch (err) {
      const paths = files.paths;
      await files.discard();
      const e = exportError(err, label, paths.length > 0 ? paths : [engine.services.root]);
      if (opts.signal.aborted) v.cancel();
      else v.fail(e);
      throw opts.signal.aborted ? new CancelledError(opts.signal.reason) : e;
    }
  }
  const first = exports.find((e) => e.imageDigest);
  return {
    summary: solved.summary,
    exports,
    imageDigest: first?.imageDigest,
    configDigest: first?.configDigest,
    warnings: solved.warnings,
  };
}
