/**
 * A quiet client's progress (BuildStart.progress_on_failure, `tsbuild build --quiet`): it shows
 * progress only when the build fails, so the Solve handler holds the events back and sends them, in
 * order, just before the `error`; a build that succeeds sends none. A no-op through the daemon then
 * sends its client three messages instead of two dozen, and the client decodes none of them
 * (issue 10: ~1.5 ms of the daemon's CPU and 2-5 ms of the client's per no-op).
 *
 * What is held stays bounded: past HELD_PROGRESS_LIMIT bytes (a build logging that much) everything
 * held is released and later events go out as they happen, which the client renders the same way.
 */
import type { tsbuild } from '../client/gen/control.js';

type WireProgress = tsbuild.control.v1.ProgressEvent.$Properties;

/** Bytes of held progress past which a quiet build's events are sent as they happen. */
export const HELD_PROGRESS_LIMIT = 1024 * 1024;

/** A rough size of an event on the wire: its log bytes and strings, and a fixed part. */
function sizeOf(e: WireProgress): number {
  const v = e.vertex;
  const s = e.status;
  return 64 + (e.log?.data?.length ?? 0)
    + (v ? (v.name?.length ?? 0) + (v.error?.length ?? 0) + (v.cacheMiss?.length ?? 0) + (v.inputs?.length ?? 0) * 72 : 0)
    + (s ? (s.id?.length ?? 0) + (s.name?.length ?? 0) : 0)
    + (e.warning ? JSON.stringify(e.warning).length : 0);
}

export class QuietProgress<M extends { readonly progress?: WireProgress | null }> {
  #holding: boolean;
  #held: M[] = [];
  #bytes = 0;
  readonly #limit: number;

  constructor(holding: boolean, limit = HELD_PROGRESS_LIMIT) {
    this.#holding = holding;
    this.#limit = limit;
  }

  /**
   * Whether `m` (a progress message) is held back. When it tips the held bytes past the limit,
   * nothing is held from then on and `release()` gives everything held so far, `m` last.
   */
  hold(m: M): boolean {
    if (!this.#holding || !m.progress) return false;
    this.#held.push(m);
    this.#bytes += sizeOf(m.progress);
    if (this.#bytes > this.#limit) this.#holding = false;
    return true;
  }

  /** Whether held messages wait to be released (the limit was passed: send them now). */
  get overflowed(): boolean {
    return !this.#holding && this.#held.length > 0;
  }

  /** Everything held, in order; nothing is held from then on (the build failed, or the limit was passed). */
  release(): M[] {
    this.#holding = false;
    const held = this.#held;
    this.#held = [];
    this.#bytes = 0;
    return held;
  }

  /** The build succeeded: what was held is never sent (and what comes after is held too). */
  drop(): void {
    this.#held = [];
    this.#bytes = 0;
  }
}
