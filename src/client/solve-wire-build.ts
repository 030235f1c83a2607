/**
 * A build request and its result to and from the Solve messages (BuildStart, BuildResult). The
 * client sends the request without its client-side paths (context, Dockerfile path, output
 * destinations stay with it); the daemon rebuilds a BuildRequest over the context directory it
 * assembled. The result maps back as the contract has it; what the wire does not carry (a step's
 * structured miss reason, the solve's start time, per-blob push outcomes) is rebuilt from what it
 * does or left empty.
 *
 * `type=local` caches keep their client path in the specs; the daemon never uses it (it fetches and
 * sends the layout over the stream instead: src/control/solve-local-cache.ts).
 */
import type { BuildRequest, BuildResult, BuildStep, CacheExportSpec, CacheImportSpec, StepOutcome } from './build-types.js';
import { tsbuild } from './gen/control.js';
import { locationFromWire, locationToWire } from './solve-wire-progress.js';

const pb = tsbuild.control.v1;
type Start = tsbuild.control.v1.BuildStart.$Properties;
type WireResult = tsbuild.control.v1.BuildResult.$Properties;
type WireCacheSpec = tsbuild.control.v1.CacheSpec.$Properties;

const NETWORK_TO_WIRE = { default: pb.NetworkMode.NETWORK_MODE_DEFAULT, none: pb.NetworkMode.NETWORK_MODE_NONE, host: pb.NetworkMode.NETWORK_MODE_HOST } as const;

const OUTCOME_TO_WIRE: Readonly<Record<StepOutcome, tsbuild.control.v1.StepOutcome>> = {
  cached: pb.StepOutcome.STEP_OUTCOME_CACHED,
  executed: pb.StepOutcome.STEP_OUTCOME_EXECUTED,
  skipped: pb.StepOutcome.STEP_OUTCOME_SKIPPED,
  failed: pb.StepOutcome.STEP_OUTCOME_FAILED,
  canceled: pb.StepOutcome.STEP_OUTCOME_CANCELED,
};
const OUTCOME_FROM_WIRE = new Map<number, StepOutcome>(Object.entries(OUTCOME_TO_WIRE).map(([k, v]) => [v, k as StepOutcome]));

function cacheToWire(s: CacheExportSpec | CacheImportSpec): WireCacheSpec {
  const { kind, ...rest } = s;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) attrs[k] = String(v);
  return { type: kind, attrs };
}

function cacheFromWire<T>(w: WireCacheSpec): T {
  const out: Record<string, unknown> = { kind: w.type };
  for (const [k, v] of Object.entries(w.attrs ?? {})) out[k] = v === 'true' ? true : v === 'false' ? false : v;
  return out as T;
}

/** The BuildStart for a request (its context travels separately). */
export function buildStartOf(req: BuildRequest, extra: { readonly ref?: string; readonly contextKey: string; readonly secretIds: readonly string[] }): Start {
  return {
    ref: extra.ref ?? req.ref ?? '',
    contextKey: extra.contextKey,
    contextTransfer: pb.ContextTransfer.CONTEXT_TRANSFER_SYNC,
    dockerfile: { content: Buffer.from(req.dockerfile.content, 'base64'), name: req.dockerfile.name },
    target: req.target ?? '',
    buildArgs: { ...req.buildArgs },
    labels: { ...req.labels },
    noCache: req.noCache,
    noCacheFilter: [...req.noCacheFilter],
    platform: req.platform ?? '',
    platforms: [...(req.platforms ?? [])],
    network: NETWORK_TO_WIRE[req.network],
    extraHosts: (req.extraHosts ?? []).map((h) => ({ host: h.host, ip: h.ip })),
    namedContexts: { ...req.namedContexts },
    ulimits: (req.ulimits ?? []).map((u) => ({ name: u.name, soft: u.soft, hard: u.hard })),
    shmSize: req.shmSize ?? 0,
    secretIds: [...extra.secretIds],
    sshIds: Object.keys(req.ssh),
    tags: [...req.tags],
    outputs: req.outputs.map((o) => ({ type: o.type, attrs: { ...o.attrs } })),
    entitlements: [...(req.allowInsecure ? ['security.insecure'] : []), ...(req.allowNetworkHost ? ['network.host'] : [])],
    pull: req.pull ?? false,
    push: req.push ?? false,
    cacheFrom: (req.cacheFrom ?? []).map(cacheToWire),
    cacheTo: (req.cacheTo ?? []).map(cacheToWire),
    registry: { insecureRegistries: [...(req.registry?.insecureRegistries ?? [])] },
    answersAuth: true,
  };
}

/** The daemon's BuildRequest for a BuildStart, building `contextDir` with outputs as given. */
export function buildRequestOf(s: Start, contextDir: string, outputs: BuildRequest['outputs']): BuildRequest {
  const network = s.network === pb.NetworkMode.NETWORK_MODE_NONE ? 'none' : s.network === pb.NetworkMode.NETWORK_MODE_HOST ? 'host' : 'default';
  const insecure = s.registry?.insecureRegistries ?? [];
  const cacheFrom = (s.cacheFrom ?? []).map((c) => cacheFromWire<CacheImportSpec>(c));
  const cacheTo = (s.cacheTo ?? []).map((c) => cacheFromWire<CacheExportSpec>(c));
  return {
    contextDir,
    dockerfile: { name: s.dockerfile?.name || 'Dockerfile', content: Buffer.from(s.dockerfile?.content ?? new Uint8Array()).toString('base64') },
    ...(s.target ? { target: s.target } : {}),
    buildArgs: { ...s.buildArgs },
    labels: { ...s.labels },
    noCache: s.noCache ?? false,
    noCacheFilter: [...(s.noCacheFilter ?? [])],
    ...(s.platform ? { platform: s.platform } : {}),
    ...(s.platforms && s.platforms.length > 0 ? { platforms: [...s.platforms] } : {}),
    network,
    ...(s.namedContexts && Object.keys(s.namedContexts).length > 0 ? { namedContexts: { ...s.namedContexts } } : {}),
    ...(s.ulimits && s.ulimits.length > 0 ? { ulimits: s.ulimits.map((u) => ({ name: u.name ?? '', soft: Number(u.soft ?? 0), hard: Number(u.hard ?? 0) })) } : {}),
    ...(s.shmSize ? { shmSize: Number(s.shmSize) } : {}),
    ...(s.extraHosts && s.extraHosts.length > 0 ? { extraHosts: s.extraHosts.map((h) => ({ host: h.host ?? '', ip: h.ip ?? '' })) } : {}),
    ssh: {},
    tags: [...(s.tags ?? [])],
    outputs,
    allowInsecure: (s.entitlements ?? []).includes('security.insecure'),
    allowNetworkHost: (s.entitlements ?? []).includes('network.host'),
    pull: s.pull ?? false,
    push: s.push ?? false,
    cacheFrom,
    cacheTo,
    ...(insecure.length > 0 ? { registry: { insecureRegistries: [...insecure] } } : {}),
  };
}

export function resultToWire(r: BuildResult, ref: string, outputTypes: readonly string[]): WireResult {
  const s = r.summary;
  return {
    ref,
    summary: {
      total: s.total, cached: s.cached, executed: s.executed, skipped: s.skipped, failed: s.failed, canceled: s.canceled, durationMs: s.durationMs,
      steps: s.steps.map((st) => ({
        digest: st.digest, name: st.name, cacheKey: st.cacheKey ?? '', outcome: OUTCOME_TO_WIRE[st.outcome], missReason: st.cacheMiss ?? '',
        startedMs: st.started ?? 0, completedMs: st.completed ?? 0, durationMs: st.durationMs,
      })),
    },
    exports: r.exports.map((e, i) => ({ type: outputTypes[i] ?? '', imageDigest: e.imageDigest ?? '', configDigest: e.configDigest ?? '', metadata: { ...e.metadata } })),
    imageDigest: r.imageDigest ?? '',
    configDigest: r.configDigest ?? '',
    warnings: r.warnings.map((w) => ({ code: w.code, message: w.message, ...(w.location ? { location: locationToWire(w.location) } : {}) })),
    pushed: r.pushed.map((p) => ({ name: p.name, digest: p.digest, size: p.size })),
    remoteCache: {
      imported: r.remoteCache.imported.map((i) => ({ name: i.name, records: i.records, error: i.error ?? '' })),
      downloadedBlobs: r.remoteCache.downloadedBlobs,
      downloadedBytes: r.remoteCache.downloadedBytes,
      exported: r.remoteCache.exported.map((e) => ({ to: e.to, digest: e.digest ?? '', records: e.records, error: e.error ?? '' })),
    },
  };
}

export function resultFromWire(w: WireResult): BuildResult {
  const s = w.summary ?? {};
  const durationMs = Number(s.durationMs ?? 0);
  const completed = Math.max(0, ...(s.steps ?? []).map((st) => Number(st.completedMs ?? 0)));
  const steps: BuildStep[] = (s.steps ?? []).map((st) => ({
    digest: st.digest ?? '', name: st.name ?? '', outcome: OUTCOME_FROM_WIRE.get(st.outcome ?? 0) ?? 'skipped', durationMs: Number(st.durationMs ?? 0),
    ...(st.cacheKey ? { cacheKey: st.cacheKey } : {}),
    ...(st.missReason ? { cacheMiss: st.missReason } : {}),
    ...(st.startedMs ? { started: Number(st.startedMs) } : {}),
    ...(st.completedMs ? { completed: Number(st.completedMs) } : {}),
  }));
  const rc = w.remoteCache ?? {};
  return {
    summary: {
      total: s.total ?? 0, cached: s.cached ?? 0, executed: s.executed ?? 0, skipped: s.skipped ?? 0, failed: s.failed ?? 0, canceled: s.canceled ?? 0,
      started: completed - durationMs, completed, durationMs, steps,
    },
    exports: (w.exports ?? []).map((e) => ({
      ...(e.imageDigest ? { imageDigest: e.imageDigest } : {}),
      ...(e.configDigest ? { configDigest: e.configDigest } : {}),
      ...(e.metadata && Object.keys(e.metadata).length > 0 ? { metadata: { ...e.metadata } } : {}),
    })),
    ...(w.imageDigest ? { imageDigest: w.imageDigest } : {}),
    ...(w.configDigest ? { configDigest: w.configDigest } : {}),
    warnings: (w.warnings ?? []).map((x) => {
      const location = locationFromWire(x.location);
      return { code: x.code ?? '', message: x.message ?? '', ...(location ? { location } : {}) };
    }),
    pushed: (w.pushed ?? []).map((p) => ({ name: p.name ?? '', digest: p.digest ?? '', size: Number(p.size ?? 0), blobs: [] })),
    remoteCache: {
      imported: (rc.imported ?? []).map((i) => ({ name: i.name ?? '', records: i.records ?? 0, ...(i.error ? { error: i.error } : {}) })),
      downloadedBlobs: rc.downloadedBlobs ?? 0,
      downloadedBytes: Number(rc.downloadedBytes ?? 0),
      exported: (rc.exported ?? []).map((e) => ({ to: e.to ?? '', records: e.records ?? 0, ...(e.digest ? { digest: e.digest } : {}), ...(e.error ? { error: e.error } : {}) })),
    },
  };
}
