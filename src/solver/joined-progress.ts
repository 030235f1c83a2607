/**
 * What a build sees of a vertex another build of this process started (the two share it by digest,
 * shared-vertex.ts): not that build's run — its start, logs and status rows — but "waiting for the
 * same step in build REF" under the step, then CACHED when the other build's run completes. The
 * joining build did not run the step; to it the result is as good as a cache hit, and its summary
 * counts it so (see Solver). Failures and cancellations pass through as they are.
 */
import type { ProgressEvent, ProgressWriter, StatusEvent } from '../progress/types.js';

/** The status row id of a step waiting for another build's run of it. */
export const WAITING_STATUS_ID = 'waiting';

export function waitingMessage(owner: string | undefined): string {
  return `waiting for the same step in ${owner ?? 'another build in this process'}`;
}

export class JoinedVertexWriter implements ProgressWriter {
  readonly #inner: ProgressWriter;
  readonly #digest: string;
  readonly #owner: string | undefined;
  #since: number | undefined;
  #finished = false;

  /** `inner` is the joining build's writer; `digest` the shared vertex; `owner` the label of the build that started it. */
  constructor(inner: ProgressWriter, digest: string, owner: string | undefined) {
    this.#inner = inner;
    this.#digest = digest;
    this.#owner = owner;
  }

  write(ev: ProgressEvent): void {
    if (ev.type === 'vertex' && ev.digest === this.#digest) {
      this.#vertex(ev);
      return;
    }
    // The other build's output of the step, while this one waits for it.
    if ((ev.type === 'log' || ev.type === 'status') && ev.vertex === this.#digest && this.#since !== undefined && !this.#finished) return;
    this.#inner.write(ev);
  }

  #vertex(ev: Extract<ProgressEvent, { type: 'vertex' }>): void {
    if (ev.state === 'started' && !this.#finished) {
      if (this.#since !== undefined) return;
      this.#since = ev.timestamp;
      const { cacheMiss: _miss, ...rest } = ev;
      this.#inner.write(rest);
      this.#inner.write(this.#status(ev.timestamp));
      return;
    }
    if (ev.state === 'completed' && this.#since !== undefined && !this.#finished) {
      this.#finished = true;
      this.#inner.write(this.#status(ev.timestamp, ev.timestamp));
      this.#inner.write({ ...ev, state: 'cached', started: ev.timestamp, completed: ev.timestamp });
      return;
    }
    if (ev.state !== 'started') this.#finished = true;
    this.#inner.write(ev);
  }

  #status(timestamp: number, completed?: number): StatusEvent {
    return {
      type: 'status',
      vertex: this.#digest,
      id: WAITING_STATUS_ID,
      name: waitingMessage(this.#owner),
      current: 0,
      timestamp,
      started: this.#since ?? timestamp,
      ...(completed !== undefined ? { completed } : {}),
    };
  }
}
