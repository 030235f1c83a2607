/**
 * The progress fan-out of one shared vertex: its events go to every build attached to it, and a
 * build that attaches late first gets a replay of what already happened.
 */
import type { ProgressEvent, ProgressWriter, VertexEvent, VertexState } from '../progress/types.js';
import type { Vertex } from './types.js';

/** Log events kept for late attachers; vertex and status events are always kept. */
const MAX_REPLAY_LOGS = 200;

export class VertexEvents {
  readonly #vertex: Vertex;
  readonly #writers = new Set<ProgressWriter>();
  readonly #history: ProgressEvent[] = [];
  #logs = 0;
  #closed = false;

  constructor(vertex: Vertex) {
    this.#vertex = vertex;
  }

  attach(w: ProgressWriter): void {
    if (this.#closed || this.#writers.has(w)) return;
    this.#writers.add(w);
    for (const ev of this.#history) safeWrite(w, ev);
  }

  detach(w: ProgressWriter): void {
    this.#writers.delete(w);
  }

  /** No more events (the vertex was disposed). */
  close(): void {
    this.#closed = true;
    this.#writers.clear();
  }

  emit(ev: ProgressEvent): void {
    if (this.#closed) return;
    if (ev.type === 'log') {
      if (this.#logs >= MAX_REPLAY_LOGS) {
        const i = this.#history.findIndex((h) => h.type === 'log');
        if (i >= 0) this.#history.splice(i, 1);
      } else {
        this.#logs++;
      }
    }
    this.#history.push(ev);
    for (const w of this.#writers) safeWrite(w, ev);
  }

  /** A vertex event for this vertex; `started`/`completed` as given. */
  vertex(state: VertexState, timestamp: number, times: { started?: number; completed?: number; error?: string; cacheMiss?: string }): void {
    const ev: VertexEvent = {
      type: 'vertex',
      digest: this.#vertex.digest,
      name: this.#vertex.name,
      state,
      timestamp,
      inputs: this.#vertex.inputs.map((e) => e.vertex.digest),
      ...times,
    };
    this.emit(ev);
  }
}

export function safeWrite(w: ProgressWriter, ev: ProgressEvent): void {
  try {
    w.write(ev);
  } catch {
    // A broken renderer must not fail the build.
  }
}
