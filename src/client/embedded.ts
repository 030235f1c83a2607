/** The in-process Client: opens an Engine on the data root and runs everything here. */
import { Engine, type EngineOptions } from '../engine/engine.js';
import { runBuild } from '../engine/build.js';
import { importImage } from '../engine/image-import.js';
import { imageHistory, inspectImage } from '../engine/image-info.js';
import { listImages } from '../engine/image-list.js';
import { loadImages } from '../engine/image-load.js';
import { removeImage, tagImage } from '../engine/image-remove.js';
import { pullToStore, type PullRequest, type PullSummary } from '../engine/image-pull.js';
import { pushFromStore, type PushRequest, type PushSummary } from '../engine/image-push.js';
import type {
  BuildCallOptions, BuildRequest, BuildResult, CallOptions, Client, HistoryRow, ImageInspect, ImageSummary, ImportRequest, LoadedImage, LoadRequest,
  RemovedImage, RemoveImageOptions, TransferCallOptions,
} from './types.js';
import type { CheckReport, DiskUsage, ImageEntry, PruneOptions, PruneResult, RepairReport } from '../cache/types.js';

export class EmbeddedClient implements Client {
  readonly #engine: Engine;

  private constructor(engine: Engine) {
    this.#engine = engine;
  }

  static async open(opts: EngineOptions): Promise<EmbeddedClient> {
    return new EmbeddedClient(await Engine.open(opts));
  }

  /**
   * Runs one operation under a lease (lease-store.ts): while it runs, garbage collection elsewhere
   * leaves what it makes alone; if its process dies, the next start collects what it left. When
   * it ends, whatever it made unreachable — a cache result that lost a race or was replaced by
   * --no-cache, the image a tag moved away from, the blobs of a failed load or pull — is collected.
   */
  async #op<T>(label: string, o: { readonly protects: boolean; readonly signal: AbortSignal; readonly collect?: boolean }, fn: () => Promise<T>): Promise<T> {
    const storage = this.#engine.services.storage;
    const lease = await storage.leases.begin(label, { protects: o.protects, signal: o.signal });
    try {
      return await fn();
    } finally {
      lease.release();
      // Not cancellable: a cancelled operation's leftovers are exactly what this is for. A
      // failure here must not fail an operation that succeeded: the next collection retries.
      if (o.collect !== false) await storage.collectGarbage().catch(() => undefined);
    }
  }

  build(req: BuildRequest, opts: BuildCallOptions): Promise<BuildResult> {
    return this.#op('build', { protects: true, signal: opts.signal }, () => runBuild(this.#engine, req, opts));
  }

  async images(): Promise<ImageEntry[]> {
    return this.#engine.services.storage.images.list();
  }

  listImages(opts: CallOptions): Promise<ImageSummary[]> {
    return listImages(this.#engine.services.storage, opts.signal);
  }

  removeImage(name: string, opts: RemoveImageOptions): Promise<RemovedImage> {
    // rmi collects its own garbage (it reports the blobs it deleted).
    return this.#op('rmi', { protects: false, signal: opts.signal, collect: false }, () =>
      removeImage(this.#engine.services.storage, name, { signal: opts.signal, ...(opts.force !== undefined ? { force: opts.force } : {}) }));
  }

  async tagImage(source: string, target: string): Promise<void> {
    tagImage(this.#engine.services.storage, source, target);
  }

  history(name: string, opts: CallOptions): Promise<HistoryRow[]> {
    return imageHistory(this.#engine.services.storage, name, opts.signal);
  }

  inspect(name: string, opts: CallOptions): Promise<ImageInspect> {
    const { storage, snapshotter, applier } = this.#engine.services;
    // It may unpack the image's layers (GraphDriver data names their directories).
    return this.#op('inspect', { protects: true, signal: opts.signal }, () => inspectImage({ storage, snapshotter, applier }, name, opts.signal));
  }

  importImage(req: ImportRequest, opts: CallOptions): Promise<ImageEntry> {
    return this.#op('image import', { protects: true, signal: opts.signal }, () => importImage(this.#engine.services.storage, {
      source: req.source,
      name: req.name,
      signal: opts.signal,
      ...(req.stdin ? { stdin: req.stdin } : {}),
      ...(req.message !== undefined ? { message: req.message } : {}),
    }));
  }

  loadImages(req: LoadRequest, opts: CallOptions): Promise<LoadedImage[]> {
    return this.#op('image load', { protects: true, signal: opts.signal }, () =>
      loadImages(this.#engine.services.storage, { source: req.source, signal: opts.signal, ...(req.stdin ? { stdin: req.stdin } : {}) }));
  }

  diskUsage(opts: CallOptions & { readonly verbose: boolean }): Promise<DiskUsage> {
    return this.#engine.services.storage.du({ signal: opts.signal, verbose: opts.verbose });
  }

  prune(opts: PruneOptions & CallOptions): Promise<PruneResult> {
    // prune collects garbage itself; its lease only marks it as running (for crash recovery).
    return this.#op('prune', { protects: false, signal: opts.signal, collect: false }, () => this.#engine.services.storage.prune(opts));
  }

  async check(opts: CallOptions & { readonly deep?: boolean }): Promise<CheckReport & { readonly recovered: readonly string[] }> {
    const report = await this.#engine.services.storage.check({ signal: opts.signal, ...(opts.deep !== undefined ? { deep: opts.deep } : {}) });
    return { ...report, recovered: this.#engine.recovery };
  }

  async repair(opts: CallOptions & { readonly deep?: boolean }): Promise<RepairReport & { readonly recovered: readonly string[] }> {
    const report = await this.#engine.services.storage.repair({ signal: opts.signal, ...(opts.deep !== undefined ? { deep: opts.deep } : {}) });
    return { ...report, recovered: this.#engine.recovery };
  }

  pull(req: PullRequest, opts: TransferCallOptions): Promise<PullSummary> {
    return this.#op('pull', { protects: true, signal: opts.signal }, () =>
      pullToStore(this.#engine.services.storage, req, { signal: opts.signal, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) }));
  }

  push(req: PushRequest, opts: TransferCallOptions): Promise<PushSummary> {
    return pushFromStore(this.#engine.services.storage, req, { signal: opts.signal, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  }

  close(): Promise<void> {
    return this.#engine.close();
  }
}
