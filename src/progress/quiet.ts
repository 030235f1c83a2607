/** `--progress=quiet`: nothing while building; at the end only the logs of failed steps. */
import { errorBoxes } from './epilogue.js';
import { Trace } from './trace.js';
import type { ProgressEvent, ProgressRenderer, RenderTarget } from './types.js';

export class QuietRenderer implements ProgressRenderer {
  readonly #out: RenderTarget;
  readonly #trace = new Trace();
  #closed = false;

  constructor(opts: { readonly out: RenderTarget }) {
    this.#out = opts.out;
  }

  write(ev: ProgressEvent): void {
    if (!this.#closed) this.#trace.apply(ev);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const boxes = errorBoxes(this.#trace);
    if (boxes) this.#out.write(boxes);
  }
}
