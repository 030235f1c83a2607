/**
 * The worker's Result: a refcounted handle on a committed snapshot, the empty filesystem (scratch),
 * or the live build context. While any handle is alive, a ref in the metadata DB keeps prune away
 * from the snapshot; the last release() drops it.
 */
import type { Result } from '../../solver/types.js';
import type { RefLease } from '../../cache/types.js';

/**
 * How a versioned local source differs from an earlier version of the same directory: only at
 * `paths` (root-relative; an entry written, changed or removed — nothing beneath a listed path
 * changed unless it is listed too, and no directory came, went or changed kind).
 */
export interface LocalChanges {
  readonly from: string;
  readonly paths: readonly string[];
}

export type ResultTarget =
  | { readonly kind: 'snapshot'; readonly id: string }
  | { readonly kind: 'scratch' }
  /** The build context directory: read in place, never stored as a record. */
  | { readonly kind: 'local'; readonly dir: string; readonly excludes: readonly string[]; readonly name: string; readonly version?: string; readonly changes?: LocalChanges; readonly linkable?: boolean };

class Holding {
  count = 1;
  constructor(
    readonly target: ResultTarget,
    private readonly lease: RefLease | undefined,
    readonly size: number | undefined,
  ) {}

  async drop(): Promise<void> {
    if (--this.count === 0) await this.lease?.release();
  }
}

export class WorkerResult implements Result {
  readonly #h: Holding;
  #released = false;

  private constructor(h: Holding) {
    this.#h = h;
  }

  static create(target: ResultTarget, opts: { readonly lease?: RefLease; readonly size?: number } = {}): WorkerResult {
    return new WorkerResult(new Holding(target, opts.lease, opts.size));
  }

  get id(): string {
    const t = this.#h.target;
    return t.kind === 'snapshot' ? t.id : '';
  }

  get size(): number | undefined {
    return this.#h.size;
  }

  get target(): ResultTarget {
    return this.#h.target;
  }

  clone(): Result {
    if (this.#released) throw new Error('clone() of a released result');
    this.#h.count++;
    return new WorkerResult(this.#h);
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.#h.drop();
  }
}

/** The target of a solver Result produced by this worker. */
export function targetOf(r: Result): ResultTarget {
  if (r instanceof WorkerResult) return r.target;
  if (r.id === '') return { kind: 'scratch' };
  return { kind: 'snapshot', id: r.id };
}

/** The committed snapshot a result stands for, or undefined for scratch. Local context is an error. */
export function snapshotOf(r: Result, what: string): string | undefined {
  const t = targetOf(r);
  switch (t.kind) {
    case 'snapshot':
      return t.id;
    case 'scratch':
      return undefined;
    case 'local':
      throw new Error(`${what}: the build context cannot be used as a filesystem base`);
  }
}
