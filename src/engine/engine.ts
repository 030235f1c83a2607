/**
 * The engine: one per data root and process. It owns the long-lived services (cache storage,
 * overlay2 snapshotter, runc executor, solver) and offers everything a client can ask for as
 * methods taking and returning plain data (src/engine/types.ts): build, images, history, du,
 * prune, pull, push, info… Operations that need no data root (parse, llb, login) are static. The
 * CLI reaches it only through the Client interface (src/client); the daemon will host one for many
 * clients. Methods are thin: each delegates to the file that implements the operation.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '../util/errors.js';
import { CacheStorage } from '../cache/cache-storage.js';
import { ContextHasher } from '../cache/context-hash.js';
import { dataRootPaths, ensureCacheDirs, makeProcessTempDir } from '../cache/data-root.js';
import { inventoryFromSnapshotter } from '../cache/snapshot-inventory.js';
import { Solver } from '../solver/solver.js';
import { Overlay2Snapshotter } from '../worker/snapshot/overlay2-snapshotter.js';
import { Overlay2Differ } from '../worker/diff/differ.js';
import { Overlay2Applier } from '../worker/diff/applier.js';
import { layerLimitsFromEnv, type LayerLimits } from '../worker/diff/layer-limits.js';
import { RuncExecutor } from '../worker/exec/runc-executor.js';
import { Emulators } from '../worker/platforms/emulators.js';
import { DiskCacheMountManager } from '../worker/cache-mounts/manager.js';
import { SnapshotResultLoader } from '../worker/ops/loader.js';
import { ManifestCache } from '../worker/ops/incremental-copy.js';
import { DiffWalkCache } from '../worker/snapshot/diff-walk.js';
import type { WorkerServices } from '../worker/ops/context.js';
import { defaultExporters, type ExporterRegistry } from '../exporter/index.js';
import { preflight } from './preflight.js';
import type { CheckProblem, DiskUsage, GcRule, PruneResult } from '../cache/types.js';
import { runBuild } from './build.js';
import { OperationLeases } from './operation-leases.js';
import { LayerUsageCache } from './layer-usage.js';
import { historyKeepFromEnv, pastBuilds } from './build-history-list.js';
import { convertToText, parseToText } from './dockerfile-tools.js';
import { engineInfo } from './engine-info.js';
import { importImage } from './images/import.js';
import { imageHistory, inspectImage } from './images/info.js';
import { listImages } from './images/list.js';
import { loadImages } from './images/load.js';
import { unpackStoredImage } from './images/unpack-stored.js';
import { saveImages } from './images/save.js';
import { pullToStore } from './images/pull.js';
import { pushFromStore } from './images/push.js';
import { removeImage, tagImage } from './images/remove.js';
import { registryLogin, registryLogout } from './registry-login.js';
import { dockerConfigCredentials, registryHostOf } from './registry-credentials.js';
import type {
  BuildHistoryRequest, BuildOptions, BuildRequest, BuildResult, ReceivedContext, ReceivingBuildOptions, ReceivingBuildRequest, CallOptions, PastBuild, CheckRequest, CheckResult, RepairResult, DiskUsageRequest, EngineInfo, HistoryRow,
  ImageInspect, ImageRecord, ImageRef, ImageSummary, ImportRequest, InputOptions, LlbRequest, LlbResult, LoadRequest, LoadedImage,
  LoginRequest, LoginResult, LogoutRequest, LogoutResult, RegistryAccess, RegistryCredentials, ParseRequest, ParseResult, PruneRequest, PullRequest, PullSummary,
  OutputOptions, PushRequest, PushSummary, RemoveImageRequest, RemovedImage, SaveRequest, SavedImage, TagImageRequest, TransferOptions,
} from './types.js';

function describeRecovered(p: CheckProblem): string {
  switch (p.kind) {
    case 'orphan-ingest':
      return `removed unfinished blob write ${p.path} of a process that is gone`;
    case 'orphan-tmp':
      return `removed scratch ${p.path} of a process that is gone`;
    case 'dead-ref':
      return `dropped the hold of ${p.holder} (gone) on snapshot ${p.resultId}`;
    case 'stale-tombstone':
      return `finished removing snapshot ${p.resultId} (an interrupted prune)`;
    case 'stale-lock':
      return `released lock ${p.name} of a process that is gone`;
    case 'dead-lease':
      return `${p.label} of a process that is gone was interrupted; collected what it left`;
    case 'orphan-snapshot':
      return `removed snapshot ${p.snapshotId} nothing needs (left by an interrupted operation)`;
    case 'orphan-blob':
      return `removed blob ${p.digest} nothing needs (left by an interrupted operation)`;
    default:
      return `repaired ${p.kind}`;
  }
}

export interface EngineOptions {
  /** The data root (`--root`). */
  readonly root: string;
  /** Steps running at once. Default: the number of cores. */
  readonly maxParallelism?: number;
  /** Skip the root/overlay/runc checks (commands that only read metadata). Default false. */
  readonly skipPreflight?: boolean;
  /**
   * Limits on each layer applied or measured (docs/snapshots.md). Unset ones come from the
   * `TSBUILD_LAYER_MAX_*` environment variables, else DEFAULT_LAYER_LIMITS.
   */
  readonly layerLimits?: Partial<LayerLimits>;
  /**
   * Recover from processes that died on this data root before doing anything (see `recovery`).
   * Default true; `cache check` turns it off to report what it finds without changing it.
   */
  readonly recover?: boolean;
  /** Builds the build history keeps (prune trims it too). Default: TSBUILD_HISTORY_KEEP, else 50. */
  readonly historyKeep?: number;
  /**
   * When a build's garbage collection runs: `inline` (default) before build() returns, or
   * `background`, after it returns (the daemon: its client gets the result without waiting for a
   * walk of the whole store; see background-collector.ts). close() waits for it either way.
   */
  readonly collectAfterBuild?: 'inline' | 'background';
  /**
   * The GC rules the collection after each build applies (gc-policy.ts); `[]`: no automatic GC.
   * Default: gcPolicyFor(10% of the data root's filesystem). tsbuildd passes its --gc-keep-storage.
   */
  readonly gcPolicy?: readonly GcRule[];
  /**
   * Where binfmt_misc is mounted, for finding the platforms RUN steps can run for (emulators.ts).
   * Default: TSBUILD_BINFMT_MISC, else /proc/sys/fs/binfmt_misc.
   */
  readonly binfmtDir?: string;
  readonly signal?: AbortSignal;
}

export class Engine {
  readonly services: WorkerServices;
  readonly solver: Solver;
  readonly exporters: ExporterRegistry;
  readonly snapshotter: Overlay2Snapshotter;
  /** The limits every layer this engine applies or measures is held to. */
  readonly layerLimits: LayerLimits;
  /** Builds the build history keeps. */
  readonly historyKeep: number;
  /** The platforms RUN steps can run for here (probed once per binfmt_misc change). */
  readonly emulators: Emulators;
  /** Layer figures by top snapshot, kept across builds (a no-op rebuild reuses its last one's). */
  readonly layerUsages: LayerUsageCache;
  /**
   * What this engine's start recovered from processes that died on the data root (one line each):
   * mounts undone, containers and active snapshots removed, unfinished writes and holds dropped.
   */
  readonly recovery: readonly string[];
  readonly #collectAfterBuild: 'inline' | 'background';
  /** Each operation's lease and the collection after it. */
  readonly #ops: OperationLeases;
  #closed = false;

  private constructor(services: WorkerServices, snapshotter: Overlay2Snapshotter, solver: Solver, recovery: readonly string[], layerLimits: LayerLimits, historyKeep: number, collectAfterBuild: 'inline' | 'background', emulators: Emulators) {
    this.services = services;
    this.layerUsages = new LayerUsageCache({ walks: services.layerWalks });
    this.emulators = emulators;
    this.#collectAfterBuild = collectAfterBuild;
    // Background collections (the daemon) pause 4x their last run's duration between runs: at most
    // a fifth of the time under a steady stream of builds, whatever the store's size.
    this.#ops = new OperationLeases(services.storage, collectAfterBuild === 'background' ? { ratio: 4 } : undefined);
    this.historyKeep = historyKeep;
    this.snapshotter = snapshotter;
    this.layerLimits = layerLimits;
    this.solver = solver;
    this.recovery = recovery;
    this.exporters = defaultExporters();
  }

  static async open(opts: EngineOptions): Promise<Engine> {
    // First, so a bad TSBUILD_LAYER_MAX_* value is reported before anything is touched.
    const layerLimits: LayerLimits = { ...layerLimitsFromEnv(process.env), ...opts.layerLimits };
    const historyKeep = opts.historyKeep ?? historyKeepFromEnv(process.env);
    if (!opts.skipPreflight) await preflight();
    const root = opts.root;
    const paths = dataRootPaths(root);
    await ensureCacheDirs(paths);
    const snapshotter = new Overlay2Snapshotter({ root });
    const signalOpt = opts.signal ? { signal: opts.signal } : {};
    const storage = await CacheStorage.open({
      root,
      inventory: inventoryFromSnapshotter(snapshotter, { overlayDir: snapshotter.layout.dir }),
      ...(opts.gcPolicy !== undefined ? { gcPolicy: opts.gcPolicy } : {}),
      ...signalOpt,
    });
    try {
      const executor = new RuncExecutor({ root });
      const recovery: string[] = [];
      // What crashed processes left behind on this data root: containers, mounts, unfinished
      // snapshots and writes, holds, and the garbage of operations that never finished. Every
      // command recovers first (so the one after a crash finds a consistent root), except a check.
      if (opts.recover !== false) {
        // Containers and mounts can only be undone (and only exist) when running as root.
        if (process.getuid?.() === 0) {
          const runs = await executor.cleanupStale({ signal: opts.signal ?? new AbortController().signal });
          for (const c of runs.containers) recovery.push(`removed container ${c} of a process that is gone`);
          for (const b of runs.bundles) recovery.push(`removed run bundle ${b} of a process that is gone`);
          const snaps = await snapshotter.cleanupStale(signalOpt);
          for (const m of snaps.unmounted) recovery.push(`unmounted ${m} of a process that is gone`);
          for (const id of snaps.removedSnapshots) recovery.push(`removed unfinished snapshot ${id} of a process that is gone`);
          for (const l of snaps.removedLeftovers) recovery.push(`removed leftover ${l}`);
        }
        for (const p of await storage.cleanupOrphans(signalOpt)) recovery.push(describeRecovered(p));
      }
      const tmpDir = await makeProcessTempDir(paths, 'engine');
      const layerWalks = new DiffWalkCache();
      const services: WorkerServices = {
        root,
        tmpDir,
        storage,
        snapshotter,
        differ: new Overlay2Differ({ snapshotter, walks: layerWalks }),
        applier: new Overlay2Applier({ snapshotter, limits: layerLimits }),
        executor,
        cacheMounts: new DiskCacheMountManager({ root }),
        hasher: await ContextHasher.create(),
        copyManifests: new ManifestCache(),
        layerWalks,
        holder: `engine-${process.pid}-${randomBytes(4).toString('hex')}`,
      };
      const solver = new Solver({
        cache: storage.records,
        loader: new SnapshotResultLoader(services),
        maxParallelism: opts.maxParallelism ?? Math.max(1, cpus().length),
      });
      const binfmtDir = opts.binfmtDir ?? process.env['TSBUILD_BINFMT_MISC'];
      const emulators = new Emulators({ tmpDir, cacheFile: join(root, 'emulators.json'), ...(binfmtDir ? { binfmtDir } : {}) });
      return new Engine(services, snapshotter, solver, recovery, layerLimits, historyKeep, opts.collectAfterBuild ?? 'inline', emulators);
    } catch (e) {
      storage.close();
      throw e;
    }
  }

  // --- Dockerfile tools and registry login: no data root needed --------------------------------

  /** `tsbuild parse`: the Dockerfile's syntax tree as text (BuildKit's dump, JSON, or raw AST). */
  static parse(req: ParseRequest, opts: CallOptions): Promise<ParseResult> {
    return parseToText(req, opts);
  }

  /** `tsbuild llb`: the Dockerfile converted to LLB, as JSON or Graphviz dot; nothing is built. */
  static llb(req: LlbRequest, opts: CallOptions): Promise<LlbResult> {
    return convertToText(req, opts);
  }

  /** Verifies credentials against the registry, then saves them in the docker config. */
  static login(req: LoginRequest, opts: CallOptions): Promise<LoginResult> {
    return registryLogin(req, opts);
  }

  static logout(req: LogoutRequest, opts: CallOptions): Promise<LogoutResult> {
    return registryLogout(req, opts);
  }

  /** What the docker config (`registry.dockerConfigDir`, else the process's) holds for a registry host. */
  static registryCredentials(host: string, registry: RegistryAccess | undefined, opts: CallOptions): Promise<RegistryCredentials> {
    return dockerConfigCredentials(host, registry, opts.signal);
  }

  /** The registry host an image reference names (`alpine` → `docker.io`); throws on a malformed reference. */
  static registryHost(ref: string): string {
    return registryHostOf(ref);
  }

  // --- Builds and engine facts ------------------------------------------------------------------

  build(req: BuildRequest, opts: BuildOptions): Promise<BuildResult> {
    // The GC policy is applied by the collection after the build (background-collector.ts).
    return this.#ops.run('build', { protects: true, signal: opts.signal, collect: this.#collectAfterBuild, policy: true }, () => runBuild(this, req, opts));
  }

  /**
   * build(), started while `req.contextDir` is still being filled (tsbuildd receiving the client's
   * context, as BuildKit starts solving while its session transfers the context): the steps that
   * read the context wait for `context`; the others (FROM, a RUN before the first COPY) run
   * meanwhile. A rejected `context` fails the steps waiting for it. `req.contextDir` must not be
   * read before it resolves: the request's ignore file must come from `req.dockerignore` (its text)
   * or from beside `req.dockerfile.path`.
   */
  buildReceiving(req: ReceivingBuildRequest, opts: ReceivingBuildOptions, context: Promise<ReceivedContext>): Promise<BuildResult> {
    return this.#ops.run('build', { protects: true, signal: opts.signal, collect: this.#collectAfterBuild, policy: true, after: opts.delivered }, () => runBuild(this, req, opts, context));
  }

  info(opts: CallOptions): Promise<EngineInfo> {
    const gcBudget = Math.max(0, ...this.services.storage.gcPolicy.map((r) => r.keepStorage ?? 0));
    return engineInfo(this.services.root, this.exporters.types(), this.emulators, gcBudget, opts);
  }

  // --- The image store ----------------------------------------------------------------------------

  listImages(opts: CallOptions): Promise<ImageSummary[]> {
    return listImages(this.services.storage, opts.signal, this.layerLimits);
  }

  removeImage(req: RemoveImageRequest, opts: CallOptions): Promise<RemovedImage> {
    // rmi collects its own garbage (it reports the blobs it deleted).
    return this.#ops.run('rmi', { protects: false, signal: opts.signal, collect: false }, () =>
      removeImage(this.services.storage, req.name, { signal: opts.signal, ...(req.force !== undefined ? { force: req.force } : {}) }));
  }

  async tagImage(req: TagImageRequest, opts: CallOptions): Promise<ImageRecord> {
    throwIfAborted(opts.signal);
    return tagImage(this.services.storage, req.source, req.target);
  }

  history(req: ImageRef, opts: CallOptions): Promise<HistoryRow[]> {
    return imageHistory(this.services.storage, req.name, opts.signal, this.layerLimits);
  }

  inspect(req: ImageRef, opts: CallOptions): Promise<ImageInspect> {
    const { storage, snapshotter, applier } = this.services;
    // It may unpack the image's layers (GraphDriver data names their directories).
    return this.#ops.run('inspect', { protects: true, signal: opts.signal }, () => inspectImage({ storage, snapshotter, applier }, req.name, opts.signal, this.layerLimits));
  }

  importImage(req: ImportRequest, opts: InputOptions): Promise<ImageRecord> {
    return this.#ops.run('image import', { protects: true, signal: opts.signal }, async () => {
      const record = await importImage(this.services.storage, {
        source: req.source,
        name: req.name,
        signal: opts.signal,
        ...(opts.input ? { input: opts.input } : {}),
        ...(req.message !== undefined ? { message: req.message } : {}),
        ...(req.platform !== undefined ? { platform: req.platform } : {}),
      });
      await unpackStoredImage(this.services, record, opts.signal);
      return record;
    });
  }

  loadImages(req: LoadRequest, opts: InputOptions): Promise<LoadedImage[]> {
    return this.#ops.run('image load', { protects: true, signal: opts.signal }, async () => {
      const loaded = await loadImages(this.services.storage, {
        source: req.source, signal: opts.signal, layerLimits: this.layerLimits,
        ...(opts.input ? { input: opts.input } : {}),
        ...(opts.inputLabel !== undefined ? { inputLabel: opts.inputLabel } : {}),
      });
      for (const image of loaded) await unpackStoredImage(this.services, image, opts.signal);
      return loaded;
    });
  }

  saveImages(req: SaveRequest, opts: OutputOptions): Promise<SavedImage[]> {
    return saveImages(this.services.storage, req.names, { signal: opts.signal, output: opts.output });
  }

  pull(req: PullRequest, opts: TransferOptions): Promise<PullSummary> {
    return this.#ops.run('pull', { protects: true, signal: opts.signal }, () => pullToStore(this.services.storage, req, {
      signal: opts.signal, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}), ...(opts.credentials ? { credentials: opts.credentials } : {}),
    }));
  }

  push(req: PushRequest, opts: TransferOptions): Promise<PushSummary> {
    return pushFromStore(this.services.storage, req, {
      signal: opts.signal, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}), ...(opts.credentials ? { credentials: opts.credentials } : {}),
    });
  }

  // --- The build cache ----------------------------------------------------------------------------

  diskUsage(req: DiskUsageRequest, opts: CallOptions): Promise<DiskUsage> {
    return this.services.storage.du({ signal: opts.signal, verbose: req.verbose ?? false });
  }

  /** Removes build cache, and build history beyond the newest `historyKeep` builds. */
  async prune(req: PruneRequest, opts: CallOptions): Promise<PruneResult> {
    // prune collects garbage itself; its lease only marks it as running (for crash recovery).
    const result = await this.#ops.run('prune', { protects: false, signal: opts.signal, collect: false }, () => this.services.storage.prune({ ...req, signal: opts.signal }));
    this.services.storage.history.trim(this.historyKeep);
    return result;
  }

  /** Past builds with their steps, newest first (`tsbuild history --why`, the History RPC). */
  async buildHistory(req: BuildHistoryRequest, opts: CallOptions): Promise<PastBuild[]> {
    throwIfAborted(opts.signal);
    return pastBuilds(this.services.storage.history, req);
  }

  /**
   * Consistency of the data root. Changes nothing when the engine was opened without recovery
   * (as `cache check` does); otherwise `recovered` lists what the engine's start recovered first.
   */
  async check(req: CheckRequest, opts: CallOptions): Promise<CheckResult> {
    const report = await this.services.storage.check({ signal: opts.signal, ...(req.deep !== undefined ? { deep: req.deep } : {}) });
    return { ...report, recovered: this.recovery };
  }

  async repair(req: CheckRequest, opts: CallOptions): Promise<RepairResult> {
    const report = await this.services.storage.repair({ signal: opts.signal, ...(req.deep !== undefined ? { deep: req.deep } : {}) });
    return { ...report, recovered: this.recovery };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Background collections hold leases and use the store: they finish before it closes.
    await this.#ops.drain();
    await this.snapshotter.close().catch(() => undefined);
    await rm(this.services.tmpDir, { recursive: true, force: true }).catch(() => undefined);
    this.services.storage.close();
  }
}
