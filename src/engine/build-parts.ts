/**
 * Pieces of a build that both the single-platform build (build.ts) and the multi-platform one
 * (multi-platform-build.ts) use: request checks, output normalisation, step/summary mapping.
 */
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { describeMissReason } from '../solver/miss-reason.js';
import type { BuildSummary as SolverSummary, StepRecord } from '../solver/types.js';
import type { SecretProvider } from '../worker/exec/secrets.js';
import type { ConvertOptions, ConvertWarning, ImageResolver, NamedContext } from '../frontend/types.js';
import type { BuildSession, StepObserver } from '../worker/ops/context.js';
import type { BuildRegistry } from './build-registry.js';
import type { OutputSpec } from '../exporter/types.js';
import { normalizeImageRef } from '../oci/reference.js';
import { layerOptions } from '../exporter/image-build.js';
import type { PushTarget } from './build-registry.js';
import { UserInputError } from '../util/errors.js';
import { extraHostProblem } from '../util/extra-host.js';
import { namedLocalDirs } from './named-contexts.js';
import { ulimitProblem } from '../util/ulimit.js';
import type { UlimitEntry } from '../util/ulimit.js';
import type { ExtraHostEntry } from '../util/extra-host.js';
import type { Solver } from '../solver/solver.js';
import type { WorkerServices } from '../worker/ops/context.js';
import type { ExporterRegistry } from '../exporter/registry.js';
import type { LayerUsageCache } from './layer-usage.js';
import type { Emulators } from '../worker/platforms/emulators.js';
import type { BuildOptions, BuildRequest, BuildStep, BuildSummary, BuildWarning, ByteSink, ReceivedContext } from './types.js';

/** What a build needs of the engine (the Engine itself, seen through this to keep imports one-way). */
export interface BuildEngine {
  /** The platforms RUN steps can run for on this machine. */
  readonly emulators: Emulators;
  readonly services: WorkerServices;
  readonly solver: Solver;
  readonly exporters: ExporterRegistry;
  /** Builds the build history keeps. */
  readonly historyKeep: number;
  /** Layer figures of the snapshots this engine built, for the history (layer-usage.ts). */
  readonly layerUsages: LayerUsageCache;
}

export function sourceDateEpoch(args: ReadonlyMap<string, string>): number | undefined {
  const v = args.get('SOURCE_DATE_EPOCH');
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UserInputError('INVALID_SOURCE_DATE_EPOCH', `invalid SOURCE_DATE_EPOCH "${v}": expected whole seconds since 1970`);
  return n;
}


/**
 * The outputs with `type=registry` (buildx's name for a pushed image) and `--push` folded into
 * image outputs with `push=true`, and `type=docker` without `dest` (buildx's `--load`: into the
 * local image store, here tsbuild's) an image output.
 */
export function normalizeOutputs(given: readonly OutputSpec[], req: Pick<BuildRequest, 'tags' | 'push'>): OutputSpec[] {
  const outputs: OutputSpec[] = given.map((o) => {
    if (o.type === 'registry') return { type: 'image', attrs: new Map([...o.attrs, ['push', 'true']]) };
    if (o.type === 'docker' && !o.attrs.has('dest')) return { type: 'image', attrs: o.attrs };
    return o;
  });
  if (req.push) {
    if (!outputs.some((o) => o.type === 'image')) outputs.push({ type: 'image', attrs: new Map([['push', 'true']]) });
    else for (const [i, o] of outputs.entries()) if (o.type === 'image') outputs[i] = { type: 'image', attrs: new Map([...o.attrs, ['push', 'true']]) };
  }
  // As `docker build`: without any output the image is stored, untagged without -t.
  if (outputs.length === 0) outputs.push({ type: 'image', attrs: new Map() });
  return outputs;
}


export function pushFlag(o: OutputSpec): boolean {
  const v = o.attrs.get('push');
  if (v === undefined || v === 'false') return false;
  if (v === 'true' || v === '') return true;
  throw new UserInputError('INVALID_OUTPUT', `invalid push=${v} for type=${o.type}: expected true or false`);
}


/** Names an image output pushes: the `-t` names and its own `name=`. */
export function pushNames(o: OutputSpec, tags: readonly string[]): string[] {
  return [...new Set([...tags, ...(o.attrs.get('name')?.split(',').filter(Boolean) ?? [])].map(normalizeImageRef))];
}

/** What the image outputs push: each name once (the first output naming it), with its output's layer options. */
export function pushTargets(outputs: readonly OutputSpec[], tags: readonly string[]): PushTarget[] {
  const out = new Map<string, PushTarget>();
  for (const o of outputs) {
    if (o.type !== 'image' || !pushFlag(o)) continue;
    const layers = layerOptions(o.attrs);
    for (const name of pushNames(o, tags)) if (!out.has(name)) out.set(name, { name, layers });
  }
  return [...out.values()];
}


/** The client's secret lookup as the worker asks for it; no lookup means no secrets. */
export function secretProvider(opts: BuildOptions): SecretProvider {
  const lookup = opts.secrets;
  return { get: (id, signal) => (lookup ? lookup(id, signal) : Promise.resolve(undefined)) };
}


/** A solver step as data: absent fields left out, the miss reason also in words. */
export function stepOf(st: StepRecord): BuildStep {
  return {
    digest: st.digest,
    name: st.name,
    outcome: st.outcome,
    ...(st.cacheKey !== undefined ? { cacheKey: st.cacheKey } : {}),
    ...(st.missReason !== undefined ? { missReason: st.missReason, cacheMiss: st.why ?? describeMissReason(st.missReason) } : {}),
    ...(st.started !== undefined ? { started: st.started } : {}),
    ...(st.completed !== undefined ? { completed: st.completed } : {}),
    durationMs: st.durationMs,
  };
}


export function summaryOf(s: SolverSummary): BuildSummary {
  return { ...s, steps: s.steps.map(stepOf) };
}


export function warningOf(w: ConvertWarning): BuildWarning {
  return { code: w.code, message: w.message, ...(w.location ? { location: w.location } : {}) };
}


/** A `dest=-` output: the client's sink as a stream the exporters can pipe into. */
export function sinkStream(sink: ByteSink): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      sink.write(chunk).then(() => callback(), callback);
    },
  });
}

/** The Dockerfile a build's history is kept under (its path, or the stdin key). */
export function historyDockerfile(req: BuildRequest): string {
  return req.historyKey ?? resolve(req.dockerfile.path ?? join(req.contextDir, req.dockerfile.name));
}

/** `--add-host` entries from a request (a daemon's may come from any client), each checked. */
function checkedExtraHosts(hosts: NonNullable<BuildRequest['extraHosts']>): readonly ExtraHostEntry[] {
  for (const h of hosts) {
    const why = extraHostProblem(h);
    if (why !== undefined) throw new UserInputError('INVALID_ADD_HOST', `invalid --add-host "${h.host}:${h.ip}": ${why}`);
  }
  return hosts;
}

/** `--ulimit` entries from a request, each checked (a daemon's may come from any client). */
function checkedUlimits(ulimits: NonNullable<BuildRequest['ulimits']>): readonly UlimitEntry[] {
  for (const u of ulimits) {
    const why = ulimitProblem(u);
    if (why !== undefined) throw new UserInputError('INVALID_ULIMIT', `invalid --ulimit "${u.name}=${u.soft}:${u.hard}": ${why}`);
  }
  return ulimits;
}

function checkedShmSize(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new UserInputError('INVALID_SHM_SIZE', `invalid --shm-size ${bytes}: expected a size above 0`);
  return bytes;
}

/** The converter's options for `req`: one platform's (`platform`), or the request's own. */
export function convertOptions(req: BuildRequest, o: { buildArgs: ReadonlyMap<string, string>; dockerignore: readonly string[]; namedContexts: ReadonlyMap<string, NamedContext>; imageResolver: ImageResolver; signal: AbortSignal; platform?: string; prefixPlatform?: boolean }): ConvertOptions {
  const platform = o.platform ?? req.platform;
  return {
    buildArgs: new Map(o.buildArgs),
    labels: new Map(Object.entries(req.labels)),
    noCache: req.noCache,
    noCacheFilter: req.noCacheFilter,
    dockerignore: [...o.dockerignore],
    ...(o.namedContexts.size > 0 ? { namedContexts: o.namedContexts } : {}),
    signal: o.signal,
    ...(req.target !== undefined ? { target: req.target } : {}),
    ...(platform !== undefined ? { platform } : {}),
    ...(o.prefixPlatform ? { prefixPlatform: true } : {}),
    ...(req.network === 'none' || req.network === 'host' ? { forceNetwork: req.network } : {}),
    ...(req.extraHosts !== undefined && req.extraHosts.length > 0 ? { extraHosts: checkedExtraHosts(req.extraHosts) } : {}),
    ...(req.ulimits !== undefined && req.ulimits.length > 0 ? { ulimits: checkedUlimits(req.ulimits) } : {}),
    ...(req.shmSize !== undefined && req.shmSize !== 0 ? { shmSize: checkedShmSize(req.shmSize) } : {}),
    imageResolver: o.imageResolver,
  };
}

/** The versions the request vouches for of its context (the session's localVersions/localChanges). */
function localVersionsOf(req: Pick<BuildRequest, 'contextVersion' | 'contextChanges'>): Pick<BuildSession, 'localVersions' | 'localChanges'> {
  return {
    ...(req.contextVersion !== undefined ? { localVersions: new Map([['context', req.contextVersion]]) } : {}),
    ...(req.contextVersion !== undefined && req.contextChanges !== undefined ? { localChanges: new Map([['context', req.contextChanges]]) } : {}),
  };
}

/**
 * The solver session of one build (every platform's solve shares it). `context`: the build started
 * while its context directory is still being filled; local sources wait for it (BuildSession.localsReady).
 */
export function buildSession(req: BuildRequest, opts: BuildOptions, buildArgs: ReadonlyMap<string, string>, observer: StepObserver, registry: BuildRegistry, layers?: Pick<BuildSession, 'layerCommitted' | 'processStarted'>, context?: Promise<ReceivedContext>): BuildSession {
  const localsReady = context?.then((c) => localVersionsOf({ ...req, ...c }));
  // A build that never reads its context never waits for it: its failure is the caller's to report.
  localsReady?.catch(() => undefined);
  return {
    ...(localsReady ? { localsReady } : {}),
    observer,
    ...(layers?.layerCommitted ? { layerCommitted: layers.layerCommitted } : {}),
    ...(layers?.processStarted ? { processStarted: layers.processStarted } : {}),
    id: randomBytes(16).toString('hex'),
    locals: new Map([['context', resolve(req.contextDir)], ...namedLocalDirs(req.namedContexts)]),
    ...localVersionsOf(req),
    ...(req.contextLinkable === true ? { linkableLocals: new Set(['context']) } : {}),
    secrets: secretProvider(opts),
    ssh: new Map(Object.entries(req.ssh)),
    defaultNetwork: req.network === 'default' ? 'sandbox' : req.network,
    allowInsecure: req.allowInsecure ?? false,
    allowNetworkHost: (req.allowNetworkHost ?? false) || req.network === 'host',
    sourceDateEpoch: sourceDateEpoch(buildArgs),
    scratch: [],
    images: registry.images,
  };
}
