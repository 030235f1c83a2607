/**
 * Layer blobs made while the build still runs (issue 14). When a RUN or file step of the target
 * stage commits its snapshot, the blob the local image store's export will ask for (the layer's
 * uncompressed tar, src/exporter/layers.ts) is made in the background: diffing a COPY of many files
 * then overlaps with the steps after it (a RUN mostly waits on runc) instead of adding to
 * "exporting to image", which finds the blob made, or waits for the one being made.
 *
 * Not at the commit itself: the next step's own work (its snapshot, overlay mount and bundle, ~5 ms
 * before runc starts) comes right after it on the event loop and the thread pool, and a tar job
 * started then made every RUN of a one-file edit 2-5 ms later to start its process (issue 14). A
 * committed layer's job starts when a step's process has started (`processStarted`: the build then
 * waits on that process), when the target step (the last) or a layer of AT_ONCE_BYTES or more has
 * committed, when the export is about to ask for the blobs (`flush`), or after `fallbackMs`
 * otherwise (a chain of COPY steps has no process to wait on).
 *
 * Only when it pays and cannot be wrong: the build exports to the local image store, without
 * SOURCE_DATE_EPOCH (whose blobs depend on the epoch and are not cached), and only the target
 * stage's steps (other stages' layers are not in the image). Best effort: a failure leaves the
 * export to make the blob itself. close() cancels what still runs and waits for it, so no job
 * outlives its build.
 */
import { setMaxListeners } from 'node:events';
import type { WorkerServices } from '../worker/ops/context.js';
import type { Vertex } from '../solver/types.js';
import type { ExportContext } from '../exporter/types.js';
import type { VertexProgress } from '../progress/types.js';
import { layerBlobFor } from '../exporter/layers.js';

const SILENT: VertexProgress = { digest: '', log: () => undefined, status: () => undefined, warn: () => undefined };

/** How long a committed layer's job waits for a process start or the export before it starts anyway. */
const FALLBACK_MS = 50;

/**
 * A layer this large starts its job at once: its tar, hash and fsync take longer (~5 ms per 4 MiB
 * here) than the next step's setup it delays, and an export waits for its end.
 */
export const AT_ONCE_BYTES = 4 * 1024 * 1024;

export class EagerLayers {
  readonly #ac = new AbortController();
  readonly #jobs = new Set<Promise<unknown>>();
  readonly #ctx: ExportContext;
  readonly #fallbackMs: number;
  /** Committed snapshots whose jobs have not started yet, in commit order. */
  #waiting: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #stage: string | undefined;
  /** The target vertex's digest: its commit is the build's last, and starts every waiting job. */
  #target: string | undefined;
  #on = false;

  constructor(services: Pick<WorkerServices, 'storage' | 'snapshotter' | 'differ' | 'tmpDir'>, signal: AbortSignal, opts: { readonly fallbackMs?: number } = {}) {
    const jobs = AbortSignal.any([signal, this.#ac.signal]);
    // One abort listener per running job (a 500-step build has hundreds at once), each removed when
    // its job ends: not a leak, so no MaxListenersExceededWarning.
    setMaxListeners(0, jobs);
    this.#ctx = {
      storage: services.storage, snapshotter: services.snapshotter, differ: services.differ, tmpDir: services.tmpDir,
      signal: jobs, progress: SILENT,
      openOutput: () => Promise.reject(new Error('internal: an early layer opens no output')),
    };
    this.#fallbackMs = opts.fallbackMs ?? FALLBACK_MS;
  }

  /** Starts making blobs for the steps of `target`'s stage (its vertex's stage; none: no stage). */
  enable(target: Vertex): void {
    this.#stage = target.options.stage;
    this.#target = target.digest;
    this.#on = true;
  }

  /** BuildSession.layerCommitted: the layer's job waits for a quiet moment (above). */
  readonly committed = (vertex: Vertex, snapshotId: string, sizeBytes?: number): void => {
    if (!this.#on || this.#ac.signal.aborted || vertex.options.stage !== this.#stage) return;
    this.#waiting.push(snapshotId);
    // No step comes after the target's: nothing to wait for (the export will ask at once). A large
    // layer's job is long: waiting for a quiet moment would only delay its end.
    if ((this.#target !== undefined && vertex.digest === this.#target) || (sizeBytes ?? 0) >= AT_ONCE_BYTES) {
      this.flush();
      return;
    }
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), this.#fallbackMs);
      // Never what keeps the process alive: close() or the export ends every build.
      this.#timer.unref();
    }
  };

  /** BuildSession.processStarted: a step now waits on its process; the waiting jobs start. */
  readonly processStarted = (): void => {
    this.flush();
  };

  /** Starts every waiting job now (the export is about to ask for the blobs). */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const ids = this.#waiting;
    this.#waiting = [];
    if (this.#ac.signal.aborted) return;
    for (const id of ids) {
      const job = layerBlobFor(id, { compression: 'uncompressed', sourceDateEpoch: undefined }, this.#ctx).catch(() => undefined);
      this.#jobs.add(job);
      void job.finally(() => this.#jobs.delete(job));
    }
  }

  /** Cancels the jobs still running (and drops the waiting ones), and waits until every one has settled. */
  async close(): Promise<void> {
    this.#on = false;
    this.#ac.abort();
    this.flush(); // aborted: clears the timer and drops the waiting snapshots, starting nothing
    await Promise.allSettled([...this.#jobs]);
  }
}
