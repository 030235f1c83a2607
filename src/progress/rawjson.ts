/**
 * `--progress=rawjson`: every event as one JSON object on its own line, for programs; at the end one
 * `{"type":"summary",…}` line with the step counts and the time.
 */
import { countSteps } from './epilogue.js';
import { Trace } from './trace.js';
import type { ProgressEvent, ProgressRenderer, RenderTarget } from './types.js';

export interface RawJsonRendererOptions {
  readonly out: RenderTarget;
  readonly now?: () => number;
}

export class RawJsonRenderer implements ProgressRenderer {
  readonly #out: RenderTarget;
  readonly #now: () => number;
  readonly #trace = new Trace({ keepLines: 0 });
  #closed = false;

  constructor(opts: RawJsonRendererOptions) {
    this.#out = opts.out;
    this.#now = opts.now ?? Date.now;
  }

  write(ev: ProgressEvent): void {
    if (this.#closed) return;
    this.#trace.apply(ev);
    this.#out.write(`${JSON.stringify(ev)}\n`);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const now = this.#now();
    const c = countSteps(this.#trace);
    const summary = {
      type: 'summary',
      total: c.total,
      cached: c.cached,
      executed: c.executed,
      failed: c.failed,
      canceled: c.canceled,
      durationMs: this.#trace.first === undefined ? 0 : now - this.#trace.first,
      timestamp: now,
    };
    this.#out.write(`${JSON.stringify(summary)}\n`);
  }
}
