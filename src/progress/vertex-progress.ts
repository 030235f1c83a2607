/** The VertexProgress an op reports through: fills in the vertex digest and the timestamps. */
import { TextDecoder } from 'node:util';
import type { ProgressEvent, StatusUpdate, VertexProgress, WarningUpdate } from './types.js';

export class VertexProgressWriter implements VertexProgress {
  readonly digest: string;
  readonly #emit: (ev: ProgressEvent) => void;
  readonly #now: () => number;
  // One decoder per stream, so a multi-byte character split across two chunks still decodes.
  readonly #decoders = new Map<1 | 2, TextDecoder>();

  constructor(digest: string, emit: (ev: ProgressEvent) => void, now: () => number) {
    this.digest = digest;
    this.#emit = emit;
    this.#now = now;
  }

  log(stream: 1 | 2, data: string | Uint8Array): void {
    let text: string;
    if (typeof data === 'string') {
      text = data;
    } else {
      let d = this.#decoders.get(stream);
      if (!d) this.#decoders.set(stream, (d = new TextDecoder('utf-8')));
      text = d.decode(data, { stream: true });
    }
    if (text === '') return;
    this.#emit({ type: 'log', vertex: this.digest, stream, data: text, timestamp: this.#now() });
  }

  status(update: StatusUpdate): void {
    this.#emit({ type: 'status', vertex: this.digest, ...update, timestamp: this.#now() });
  }

  warn(warning: WarningUpdate): void {
    this.#emit({ type: 'warning', vertex: this.digest, ...warning, timestamp: this.#now() });
  }
}
