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
import { parseDockerfile } from '../frontend/dockerfile/parse.js';
import { convertDockerfile } from '../frontend/dockerfile/convert/convert.js';
import { loadDockerignore } from '../frontend/dockerignore.js';
import type { ConvertWarning } from '../frontend/types.js';
import { startVertex, type ProgressWriter } from '../progress/index.js';
import type { BuildSummary } from '../solver/types.js';
import { SecretStore, type SecretSource } from '../worker/exec/secrets.js';
import { solverGraph } from '../worker/ops/vertices.js';
import { snapshotOf } from '../worker/ops/worker-result.js';
import type { BuildSession } from '../worker/ops/context.js';
import { findLocalImage } from '../worker/ops/local-image.js';
import type { ExportResponse, OutputSpec } from '../exporter/types.js';
import { normalizeImageRef } from '../llb/image-ref.js';
import type { ImageConfig } from '../oci/types.js';
import { CancelledError, TsbuildError, UserInputError, throwIfAborted } from '../util/errors.js';
import type { Engine } from './engine.js';

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
  /** Network for RUN steps without --network: BuildKit's default is the host's. */
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
}

export interface BuildResult {
  readonly summary: BuildSummary;
  readonly exports: readonly ExportResponse[];
  /** Manifest digest of the first image output. */
  readonly imageDigest: string | undefined;
  readonly configDigest: string | undefined;
  readonly warnings: readonly ConvertWarning[];
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

async function build(engine: Engine, req: BuildRequest, opts: BuildRunOptions): Promise<BuildResult> {
  const { signal, progress } = opts;
  const services = engine.services;
  const storage = services.storage;

  // Front end: parse, .dockerignore, convert (base image configs come from the local store).
  const load = startVertex(progress, { name: `[internal] load build definition from ${req.dockerfile.name}` });
  let converted;
  let ignore;
  try {
    const ast = parseDockerfile(req.dockerfile.content, { file: req.dockerfile.name });
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
      imageResolver: async (ref, o) => (await findLocalImage(storage, ref, o.signal ? { signal: o.signal } : {}))?.config,
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
    defaultNetwork: req.network === 'none' ? 'none' : 'host',
    allowInsecure: req.allowInsecure ?? false,
    sourceDateEpoch: sourceDateEpoch(req.buildArgs),
    scratch: [],
  };
  const graph = solverGraph(converted.definition.loaded, { services, session });
  try {
    let snapshot: string | undefined;
    let summary: BuildSummary;
    if (graph.target) {
      const solved = await engine.solver.solve({ target: graph.target, signal, progress });
      summary = solved.summary;
      try {
        snapshot = snapshotOf(solved.result, 'build result');
        return await exportAll(engine, req, { snapshot, summary, warnings: converted.warnings, config: converted.image, epoch: session.sourceDateEpoch }, opts);
      } finally {
        await solved.result.release();
      }
    }
    summary = { total: 0, cached: 0, executed: 0, skipped: 0, failed: 0, canceled: 0, started: Date.now(), completed: Date.now(), durationMs: 0, steps: [] };
    return await exportAll(engine, req, { snapshot: undefined, summary, warnings: converted.warnings, config: converted.image, epoch: session.sourceDateEpoch }, opts);
  } finally {
    for (const d of session.scratch) await rm(d, { recursive: true, force: true }).catch(() => undefined);
    await storage.maybeGc().catch(() => undefined);
  }
}

interface Solved {
  readonly snapshot: string | undefined;
  readonly summary: BuildSummary;
  readonly warnings: readonly ConvertWarning[];
  readonly config: ImageConfig;
  readonly epoch: number | undefined;
}

async function exportAll(engine: Engine, req: BuildRequest, solved: Solved, opts: BuildRunOptions): Promise<BuildResult> {
  const names = req.tags.map(normalizeImageRef);
  const outputs: OutputSpec[] = [...req.outputs];
  if (outputs.length === 0 && names.length > 0) outputs.push({ type: 'image', attrs: new Map() });
  const exports: ExportResponse[] = [];
  for (const out of outputs) {
    throwIfAborted(opts.signal);
    const exporter = engine.exporters.get(out.type);
    const label = out.type === 'image' ? 'exporting to image' : `exporting to ${out.type}${out.attrs.get('dest') ? ` ${out.attrs.get('dest')}` : ''}`;
    const v = startVertex(opts.progress, { name: label });
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
          openOutput: async (dest) => {
            if (dest === '-') {
              if (!req.stdout) throw new UserInputError('INVALID_OUTPUT', 'dest=- needs a standard output');
              return req.stdout;
            }
            await mkdir(dirname(resolve(dest)), { recursive: true });
            return createWriteStream(dest);
          },
        },
      );
      if (res.imageDigest) v.progress.log(1, `writing image ${res.imageDigest} done\n`);
      v.done();
      exports.push(res);
    } catch (e) {
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
