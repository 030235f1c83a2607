/**
 * A CacheRecordStore kept in memory: for an engine without a data root, and for tests of the solver.
 * Same semantics as the SQLite store, within one process.
 */
import type { CacheRecord, CacheRecordStore, SaveRecordOptions } from './cache-types.js';

export interface MemoryCacheStoreOptions {
  /** Clock (ms since epoch). Default Date.now. */
  readonly now?: () => number;
  /** Whether a stored result still exists; an existing record is replaced when it does not. */
  readonly resultExists?: (resultId: string) => boolean;
}

export class MemoryCacheStore implements CacheRecordStore {
  readonly #records = new Map<string, CacheRecord>();
  readonly #now: () => number;
  readonly #exists: (resultId: string) => boolean;

  constructor(opts: MemoryCacheStoreOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#exists = opts.resultExists ?? (() => true);
  }

  async lookup(key: string, output: number): Promise<CacheRecord | undefined> {
    const id = slot(key, output);
    const r = this.#records.get(id);
    if (!r) return undefined;
    const hit: CacheRecord = { ...r, lastUsedAt: this.#now(), useCount: r.useCount + 1 };
    this.#records.set(id, hit);
    return hit;
  }

  async save(opts: SaveRecordOptions): Promise<CacheRecord> {
    const id = slot(opts.key, opts.output);
    const old = this.#records.get(id);
    if (old && !opts.replace && this.#exists(old.resultId)) return old;
    const now = this.#now();
    const rec: CacheRecord = {
      key: opts.key,
      output: opts.output,
      resultId: opts.resultId,
      recordType: opts.recordType,
      description: opts.description,
      createdAt: now,
      lastUsedAt: now,
      useCount: 0,
      size: opts.size,
    };
    this.#records.set(id, rec);
    return rec;
  }

  async invalidate(key: string, output: number): Promise<void> {
    this.#records.delete(slot(key, output));
  }

  /** The record without counting a use (tests, du). */
  peek(key: string, output = 0): CacheRecord | undefined {
    return this.#records.get(slot(key, output));
  }

  get size(): number {
    return this.#records.size;
  }

  /** Every record, oldest first. */
  records(): CacheRecord[] {
    return [...this.#records.values()];
  }

  /** Forgets one record (tests simulate pruning with it). */
  delete(key: string, output = 0): boolean {
    return this.#records.delete(slot(key, output));
  }
}

function slot(key: string, output: number): string {
  return `${key}\u0000${output}`;
}
