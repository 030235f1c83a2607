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

  build(req: BuildRequest, opts: BuildCallOptions): Promise<BuildResult> {
    return runBuild(this.#engine, req, opts);
  }

  async images(): Promise<ImageEntry[]> {
    return this.#engine.services.storage.images.list();
  }

  listImages(opts: CallOptions): Promise<ImageSummary[]> {
    return listImages(this.#engine.services.storage, opts.signal, this.#engine.layerLimits);
  }

  removeImage(name: string, opts: RemoveImageOptions): Promise<RemovedImage> {
    return removeImage(this.#engine.services.storage, name, { signal: opts.signal, ...(opts.force !== undefined ? { force: opts.force } : {}) });
  }

  async tagImage(source: string, target: string): Promise<void> {
    tagImage(this.#engine.services.storage, source, target);
  }

  history(name: string, opts: CallOptions): Promise<HistoryRow[]> {
    return imageHistory(this.#engine.services.storage, name, opts.signal, this.#engine.layerLimits);
  }

  inspect(name: string, opts: CallOptions): Promise<ImageInspect> {
    const { storage, snapshotter, applier } = this.#engine.services;
    return inspectImage({ storage, snapshotter, applier }, name, opts.signal, this.#engine.layerLimits);
  }

  importImage(req: ImportRequest, opts: CallOptions): Promise<ImageEntry> {
    return importImage(this.#engine.services.storage, {
      source: req.source,
      name: req.name,
      signal: opts.signal,
      ...(req.stdin ? { stdin: req.stdin } : {}),
      ...(req.message !== undefined ? { message: req.message } : {}),
    });
  }

  loadImages(req: LoadRequest, opts: CallOptions): Promise<LoadedImage[]> {
    return loadImages(this.#engine.services.storage, {
      source: req.source,
      signal: opts.signal,
      layerLimits: this.#engine.layerLimits,
      ...(req.stdin ? { stdin: req.stdin } : {}),
    });
  }

  diskUsage(opts: CallOptions & { readonly verbose: boolean }): Promise<DiskUsage> {
    return this.#engine.services.storage.du({ signal: opts.signal, verbose: opts.verbose });
  }

  prune(opts: PruneOptions & CallOptions): Promise<PruneResult> {
    return this.#engine.services.storage.prune(opts);
  }

  async check(opts: CallOptions & { readonly deep?: boolean }): Promise<CheckReport & { readonly recovered: readonly string[] }> {
    const report = await this.#engine.services.storage.check({ signal: opts.signal, ...(opts.deep !== undefined ? { deep: opts.deep } : {}) });
    return { ...report, recovered: this.#engine.recovery };
  }

  repair(opts: CallOptions & { readonly deep?: boolean }): Promise<RepairReport> {
    return this.#engine.services.storage.repair({ signal: opts.signal, ...(opts.deep !== undefined ? { deep: opts.deep } : {}) });
  }

  pull(req: PullRequest, opts: TransferCallOptions): Promise<PullSummary> {
    return pullToStore(this.#engine.services.storage, req, { signal: opts.signal, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  }

  push(req: PushRequest, opts: TransferCallOptions): Promise<PushSummary> {
    return pushFromStore(this.#engine.services.storage, req, { signal: opts.signal, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  }

  close(): Promise<void> {
    return this.#engine.close();
  }
}
