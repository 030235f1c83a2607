/**
 * Layer blobs made while the build still runs (issue 14). When a RUN or file step of the target
 * stage commits its snapshot, the blob the local image store's export will ask for (the layer's
 * uncompressed tar, src/exporter/layers.ts) is made at once in the background: diffing a COPY of
 * many files then overlaps with the steps after it (a RUN mostly waits on runc) instead of adding
 * to "exporting to image", which finds the blob made, or waits for the one being made.
 *
 * Only when it pays and cannot be wrong: the build exports to the local image store, without
 * SOURCE_DATE_EPOCH (whose blobs depend on the epoch and are not cached), and only the target
 * stage's steps (other stages' layers are not in the image). Best effort: a failure leaves the
 * export to make the blob itself. close() cancels what still runs and waits for it, so no job
 * outlives its build.
 */
import type { WorkerServices } from '../worker/ops/context.js';
import type { Vertex } from '../solver/types.js';
import type { ExportContext } from '../exporter/types.js';
import type { VertexProgress } from '../progress/types.js';
import { layerBlobFor } from '../exporter/layers.js';

const SILENT: VertexProgress = { digest: '', log: () => undefined, status: () => undefined, warn: () => undefined };

export class EagerLayers {
  readonly #ac = new AbortController();
  readonly #jobs = new Set<Promise<unknown>>();
  readonly #ctx: ExportContext;
  #stage: string | undefined;
  #on = false;

  constructor(services: WorkerServices, signal: AbortSignal) {
    this.#ctx = {
      storage: services.storage, snapshotter: services.snapshotter, differ: services.differ, tmpDir: services.tmpDir,
      signal: AbortSignal.any([signal, this.#ac.signal]), progress: SILENT,
      openOutput: () => Promise.reject(new Error('internal: an early layer opens no output')),
    };
  }

  /** Starts making blobs for the steps of `target`'s stage (its vertex's stage; none: no stage). */
  enable(target: Vertex): void {
    this.#stage = target.options.stage;
    this.#on = true;
  }

  /** BuildSession.layerCommitted. */
  readonly committed = (vertex: Vertex, snapshotId: string): void => {
    if (!this.#on || this.#ac.signal.aborted || vertex.options.stage !== this.#stage) return;
    const job = layerBlobFor(snapshotId, { compression: 'uncompressed', sourceDateEpoch: undefined }, this.#ctx).catch(() => undefined);
    this.#jobs.add(job);
    void job.finally(() => this.#jobs.delete(job));
  };

  /** Cancels the jobs still running and waits until every one has settled. */
  async close(): Promise<void> {
    this.#on = false;
    this.#ac.abort();
    await Promise.allSettled([...this.#jobs]);
  }
}
