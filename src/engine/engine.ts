/**
 * The engine: one per data root and process. It owns the long-lived services (cache storage,
 * overlay2 snapshotter, runc executor, solver) and runs builds against them. The CLI reaches it
 * only through the Client interface (src/client); the daemon will host one for many clients.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { rm } from 'node:fs/promises';
import { CacheStorage } from '../cache/cache-storage.js';
import { ContextHasher } from '../cache/context-hash.js';
import { dataRootPaths, ensureCacheDirs, makeProcessTempDir } from '../cache/data-root.js';
import { inventoryFromSnapshotter } from '../cache/snapshot-inventory.js';
import { Solver } from '../solver/solver.js';
import { Overlay2Snapshotter } from '../worker/snapshot/overlay2-snapshotter.js';
import { Overlay2Differ } from '../worker/diff/differ.js';
import { Overlay2Applier } from '../worker/diff/applier.js';
import { RuncExecutor } from '../worker/exec/runc-executor.js';
import { DiskCacheMountManager } from '../worker/cache-mounts/manager.js';
import { SnapshotResultLoader } from '../worker/ops/loader.js';
import type { WorkerServices } from '../worker/ops/context.js';
import { defaultExporters, type ExporterRegistry } from '../exporter/index.js';
import { preflight } from './preflight.js';
import type { CheckProblem } from '../cache/types.js';

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
   * Recover from processes that died on this data root before doing anything (see `recovery`).
   * Default true; `cache check` turns it off to report what it finds without changing it.
   */
  readonly recover?: boolean;
  readonly signal?: AbortSignal;
}

export class Engine {
  readonly services: WorkerServices;
  readonly solver: Solver;
  readonly exporters: ExporterRegistry;
  readonly snapshotter: Overlay2Snapshotter;
  /**
   * What this engine's start recovered from processes that died on the data root (one line each):
   * mounts undone, containers and active snapshots removed, unfinished writes and holds dropped.
   */
  readonly recovery: readonly string[];
  #closed = false;

  private constructor(services: WorkerServices, snapshotter: Overlay2Snapshotter, solver: Solver, recovery: readonly string[]) {
    this.services = services;
    this.snapshotter = snapshotter;
    this.solver = solver;
    this.recovery = recovery;
    this.exporters = defaultExporters();
  }

  static async open(opts: EngineOptions): Promise<Engine> {
    if (!opts.skipPreflight) await preflight();
    const root = opts.root;
    const paths = dataRootPaths(root);
    await ensureCacheDirs(paths);
    const snapshotter = new Overlay2Snapshotter({ root });
    const signalOpt = opts.signal ? { signal: opts.signal } : {};
    const storage = await CacheStorage.open({ root, inventory: inventoryFromSnapshotter(snapshotter, { overlayDir: snapshotter.layout.dir }), ...signalOpt });
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
      const services: WorkerServices = {
        root,
        tmpDir,
        storage,
        snapshotter,
        differ: new Overlay2Differ({ snapshotter }),
        applier: new Overlay2Applier({ snapshotter }),
        executor,
        cacheMounts: new DiskCacheMountManager({ root }),
        hasher: await ContextHasher.create(),
        holder: `engine-${process.pid}-${randomBytes(4).toString('hex')}`,
      };
      const solver = new Solver({
        cache: storage.records,
        loader: new SnapshotResultLoader(services),
        maxParallelism: opts.maxParallelism ?? Math.max(1, cpus().length),
      });
      return new Engine(services, snapshotter, solver, recovery);
    } catch (e) {
      storage.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.snapshotter.close().catch(() => undefined);
    await rm(this.services.tmpDir, { recursive: true, force: true }).catch(() => undefined);
    this.services.storage.close();
  }
}
