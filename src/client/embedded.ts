/** The in-process Client: opens an Engine on the data root and runs everything here. */
import { Engine, type EngineOptions } from '../engine/engine.js';
import { runBuild } from '../engine/build.js';
import { importImage } from '../engine/image-import.js';
import { imageHistory, inspectImage } from '../engine/image-info.js';
import { loadImages } from '../engine/image-load.js';
import { normalizeImageRef } from '../llb/image-ref.js';
import { UserInputError } from '../util/errors.js';
import type { BuildCallOptions, BuildRequest, BuildResult, CallOptions, Client, HistoryRow, ImageInspect, ImportRequest } from './types.js';
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

  async removeImage(name: string): Promise<void> {
    if (!this.#engine.services.storage.images.delete(normalizeImageRef(name))) {
      throw new UserInputError('IMAGE_NOT_FOUND', `No such image: ${name}`);
    }
  }

  async tagImage(source: string, target: string): Promise<void> {
    const images = this.#engine.services.storage.images;
    if (!images.get(normalizeImageRef(source))) throw new UserInputError('IMAGE_NOT_FOUND', `No such image: ${source}`);
    images.tag(normalizeImageRef(source), normalizeImageRef(target));
  }

  history(name: string, opts: CallOptions): Promise<HistoryRow[]> {
    return imageHistory(this.#engine.services.storage, name, opts.signal);
  }

  inspect(name: string, opts: CallOptions): Promise<ImageInspect> {
    return inspectImage(this.#engine.services.storage, this.#engine.snapshotter, name, opts.signal);
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

  loadImages(source: string, opts: CallOptions & { readonly stdin?: NodeJS.ReadableStream }): Promise<ImageEntry[]> {
    return loadImages(this.#engine.services.storage, { source, signal: opts.signal, ...(opts.stdin ? { stdin: opts.stdin } : {}) });
  }

  diskUsage(opts: CallOptions & { readonly verbose: boolean }): Promise<DiskUsage> {
    return this.#engine.services.storage.du({ signal: opts.signal, verbose: opts.verbose });
  }

  prune(opts: PruneOptions & CallOptions): Promise<PruneResult> {
    return this.#engine.services.storage.prune(opts);
  }

  check(opts: CallOptions): Promise<CheckReport> {
    return this.#engine.services.storage.check({ signal: opts.signal });
  }

  repair(opts: CallOptions): Promise<RepairReport> {
    return this.#engine.services.storage.repair({ signal: opts.signal });
  }

  close(): Promise<void> {
    return this.#engine.close();
  }
}
