/**
 * What a shared vertex (shared-vertex.ts) has found and done so far, as builds see it: its cache
 * key, hit or miss and why, and the state and times of its run. Each change that builds show is
 * announced to them as a vertex event (CACHED, started, completed, ERROR or CANCELED) as it is
 * recorded; view() is what a build writes into its step record.
 */
import type { KeyPart } from './cache-key.js';
import { StepError, isCancellation } from './errors.js';
import type { SolverDeps } from './solver-deps.js';
import type { MissReason } from './types.js';
import type { VertexEvents } from './vertex-events.js';
import type { ExecState, KeyInfo, VertexView } from './vertex-types.js';

export class VertexStatus {
  readonly #events: VertexEvents;
  readonly #deps: Pick<SolverDeps, 'now'>;
  #view: {
    key?: string;
    decision?: 'hit' | 'miss';
    missReason?: MissReason;
    exec: ExecState;
    execReason?: MissReason;
    started?: number;
    completed?: number;
    why?: string;
    opDigest?: string;
    keyParts?: readonly KeyPart[];
  } = { exec: 'none' };

  constructor(events: VertexEvents, deps: Pick<SolverDeps, 'now'>) {
    this.#events = events;
    this.#deps = deps;
  }

  view(): VertexView {
    const v = this.#view;
    return {
      key: v.key,
      decision: v.decision,
      missReason: v.missReason,
      exec: v.exec,
      execReason: v.execReason,
      started: v.started,
      completed: v.completed,
      why: v.why,
      opDigest: v.opDigest,
      keyParts: v.keyParts,
    };
  }

  /** The cache key is known. */
  keyed(key: KeyInfo): void {
    this.#view.key = key.key;
    this.#view.opDigest = key.cacheMap.digest;
    this.#view.keyParts = key.parts;
  }

  /** Every wanted output has a record: the step counts as cached. */
  cached(): void {
    this.#view.decision = 'hit';
    const now = this.#deps.now();
    this.#events.vertex('cached', now, { started: now, completed: now });
  }

  missed(reason: MissReason): void {
    this.#view.decision = 'miss';
    this.#view.missReason = reason;
  }

  /** A run of the op is wanted, for `reason` (its lease and inputs come first). */
  executing(reason: MissReason): void {
    this.#view.execReason = reason;
  }

  /** The build's explanation of the miss in words. */
  explained(why: string): void {
    this.#view.why = why;
  }

  /** The op starts running; `cacheMiss` is the miss as the build shows it. */
  started(cacheMiss: string): void {
    const now = this.#deps.now();
    this.#view.exec = 'running';
    this.#view.started = now;
    this.#events.vertex('started', now, { started: now, cacheMiss });
  }

  completed(): void {
    const done = this.#deps.now();
    this.#view.exec = 'done';
    this.#view.completed = done;
    this.#events.vertex('completed', done, { started: this.#view.started ?? done, completed: done });
  }

  /** The run ended with `err`: failed, or canceled when `err` is a cancellation (once it had started). */
  failed(err: unknown): void {
    if (this.#view.exec === 'running') {
      const done = this.#deps.now();
      this.#view.completed = done;
      const canceled = isCancellation(err);
      this.#view.exec = canceled ? 'canceled' : 'failed';
      this.#events.vertex(canceled ? 'canceled' : 'error', done, {
        started: this.#view.started ?? done,
        completed: done,
        ...(canceled ? {} : { error: errorLine(err) }),
      });
    }
  }
}

/** The one-line error shown next to the vertex (`#5 ERROR: …`); the cause, not the vertex name again. */
function errorLine(e: unknown): string {
  const cause = e instanceof StepError ? e.cause : e;
  if (cause instanceof Error) return cause.message.split('\n')[0] ?? '';
  return String(cause);
}
