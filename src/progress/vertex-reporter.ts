/**
 * Progress for work that is not a solver vertex but should show as a step — `[internal] load build
 * definition from Dockerfile`, `exporting to image`, `pushing layers` — as BuildKit shows them.
 */
import { createHash } from 'node:crypto';
import { errorMessage } from '../util/errors.js';
import type { ProgressWriter, VertexProgress } from './types.js';
import { VertexProgressWriter } from './vertex-progress.js';

export interface ReporterOptions {
  /** Display name, e.g. `exporting to image`. */
  readonly name: string;
  /** Identity of the pseudo-vertex; default: sha256 of the name. */
  readonly digest?: string;
  readonly now?: () => number;
}

/** A started pseudo-vertex. Exactly one of done/fail/cancel ends it; later calls are ignored. */
export interface VertexReporter {
  readonly progress: VertexProgress;
  done(): void;
  fail(error: unknown): void;
  cancel(): void;
}

/** Writes a `started` event for a pseudo-vertex and returns the handle that ends it. */
export function startVertex(writer: ProgressWriter, opts: ReporterOptions): VertexReporter {
  const now = opts.now ?? Date.now;
  const digest = opts.digest ?? `sha256:${createHash('sha256').update(opts.name).digest('hex')}`;
  const started = now();
  writer.write({ type: 'vertex', digest, name: opts.name, state: 'started', timestamp: started, started });
  let ended = false;
  const end = (state: 'completed' | 'error' | 'canceled', error?: string): void => {
    if (ended) return;
    ended = true;
    const t = now();
    writer.write({ type: 'vertex', digest, name: opts.name, state, timestamp: t, started, completed: t, ...(error === undefined ? {} : { error }) });
  };
  return {
    progress: new VertexProgressWriter(digest, (ev) => writer.write(ev), now),
    done: () => end('completed'),
    fail: (e) => end('error', errorMessage(e)),
    cancel: () => end('canceled'),
  };
}
