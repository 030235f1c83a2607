/**
 * Cache records in SQLite: (cache key, output) → result id. Implements the solver's
 * CacheRecordStore. All statements are short, so several processes can save and look up at once.
 */
import type { CacheRecord, CacheRecordStore, LeaseOptions, RecordType, SaveRecordOptions, StepLease } from '../solver/cache-types.js';
import { throwIfAborted, TsbuildError } from '../util/errors.js';
import type { MetadataDb } from './metadata-db.js';
import type { SignalOptions, SnapshotInventory } from './types.js';

const RECORD_TYPES: ReadonlySet<string> = new Set<RecordType>([
  'regular', 'source.local', 'source.image', 'source.http', 'source.git', 'exec.cachemount', 'internal', 'frontend',
]);

interface RecordRow {
  key: string;
  output: number;
  result_id: string;
  record_type: string;
  description: string;
  created_at: number;
  last_used_at: number;
  use_count: number;
  size: number | null;
}

export function rowToRecord(r: RecordRow): CacheRecord {
  return {
    key: r.key,
    output: r.output,
    resultId: r.result_id,
    recordType: (RECORD_TYPES.has(r.record_type) ? r.record_type : 'regular') as RecordType,
    description: r.description,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    useCount: r.use_count,
    size: r.size ?? undefined,
  };
}

/** At the latest this long after a lookup its use is written (the engine flushes after each build). */
const USAGE_FLUSH_MS = 2_000;

function usageId(key: string, output: number): string {
  return `${output}:${key}`;
}

export interface SqliteCacheStoreOptions {
  readonly db: MetadataDb;
  /**
   * Tells whether an existing record's result still exists, so save() may replace a record whose
   * result is gone. Without it, an existing record with a different result is always kept.
   */
  readonly inventory?: SnapshotInventory;
  /** Clock (ms since epoch), injectable for prune tests. Default Date.now. */
  readonly now?: () => number;
  /** Step leases across processes (step-leases.ts); without them `lease` is absent. */
  readonly leases?: { acquire(key: string, opts: LeaseOptions): Promise<StepLease> };
}

export class SqliteCacheStore implements CacheRecordStore {
  private readonly db: MetadataDb;
  private readonly inventory: SnapshotInventory | undefined;
  private readonly now: () => number;
  /** Uses found by lookup() and not yet written, by usageId (see lookup). */
  readonly #usage = new Map<string, { readonly key: string; readonly output: number; at: number; count: number }>();
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(opts: SqliteCacheStoreOptions) {
    this.db = opts.db;
    this.inventory = opts.inventory;
    this.now = opts.now ?? Date.now;
    const leases = opts.leases;
    if (leases) this.lease = (key, o) => leases.acquire(key, o);
  }

  readonly lease?: (key: string, opts: LeaseOptions) => Promise<StepLease>;

  /**
   * The record, read without a write transaction. Its use (last_used_at, use_count) is kept in
   * memory and written later, all pending uses in one transaction (flushUsage): a build looks up
   * every step's key, and a BEGIN IMMEDIATE write per lookup (~14 per change rebuild of a small
   * Dockerfile) ran synchronously on the event loop, on the build's critical path.
   *
   * Crash safety: usage only orders garbage collection (prune picks least recently, then least
   * often, used first; `keepDuration` spares recent use). A crash that loses pending uses makes a
   * later prune see those records as used less recently than they were — it may pick them earlier,
   * nothing more: what a lookup finds, and whether a result exists, never depend on usage. The
   * reads of this process (get, byResult, dependents, list) see the pending uses, so a prune here
   * keeps a record used since its scan, as before.
   */
  async lookup(key: string, output: number, opts: SignalOptions = {}): Promise<CacheRecord | undefined> {
    throwIfAborted(opts.signal);
    const r = this.db.prepare('SELECT * FROM cache_records WHERE key = ? AND output = ?').get(key, output) as RecordRow | undefined;
    if (r === undefined) return undefined;
    const id = usageId(key, output);
    const now = this.now();
    const u = this.#usage.get(id);
    if (u !== undefined) {
      u.at = Math.max(u.at, now);
      u.count++;
    } else {
      this.#usage.set(id, { key, output, at: now, count: 1 });
      this.#flushTimer ??= setTimeout(() => {
        this.#flushTimer = undefined;
        try {
          this.flushUsage();
        } catch {
          // Kept for the next flush (a busy database, a closed one at exit): usage is only GC order.
        }
      }, USAGE_FLUSH_MS).unref();
    }
    return this.#withUsage(rowToRecord(r));
  }

  /**
   * Writes the pending uses of lookup() in one transaction. The engine's collection after each
   * operation calls it (off the build's critical path), as do list() — so prune, du and the GC
   * policy order by them — and CacheStorage.close(). Uses that fail to be written stay pending.
   */
  flushUsage(): void {
    if (this.#flushTimer !== undefined) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    if (this.#usage.size === 0) return;
    // Synchronous: no lookup can add a use between the write and the clear.
    this.db.write(() => {
      const st = this.db.prepare('UPDATE cache_records SET last_used_at = MAX(last_used_at, ?), use_count = use_count + ? WHERE key = ? AND output = ?');
      for (const u of this.#usage.values()) st.run(u.at, u.count, u.key, u.output);
    });
    this.#usage.clear();
  }

  /** A record as it reads with this process's pending uses applied. */
  #withUsage(r: CacheRecord): CacheRecord {
    if (this.#usage.size === 0) return r;
    const u = this.#usage.get(usageId(r.key, r.output));
    return u === undefined ? r : { ...r, lastUsedAt: Math.max(r.lastUsedAt, u.at), useCount: r.useCount + u.count };
  }

  async save(o: SaveRecordOptions, opts: SignalOptions = {}): Promise<CacheRecord> {
    throwIfAborted(opts.signal);
    // The existence check is async (filesystem), so it cannot run inside the transaction: check,
    // then write only if the record is still the one we checked (else check again).
    for (let attempt = 0; ; attempt++) {
      const existing = this.get(o.key, o.output);
      let replaceable = existing === undefined || existing.resultId === o.resultId || o.replace === true;
      if (!replaceable && existing !== undefined) {
        replaceable = existing.resultId !== '' && this.inventory !== undefined && !(await this.inventory.exists(existing.resultId, opts));
      }
      throwIfAborted(opts.signal);
      const result = this.db.write(() => {
        const now = this.now();
        const cur = this.get(o.key, o.output);
        if (cur?.resultId !== existing?.resultId) return 'retry' as const;
        if (cur && !replaceable) return cur;
        const s = this.db;
        if (cur && cur.resultId === o.resultId) {
          s.prepare('UPDATE cache_records SET record_type = ?, description = ?, size = COALESCE(?, size), last_used_at = MAX(last_used_at, ?) WHERE key = ? AND output = ?')
            .run(o.recordType, o.description, o.size ?? null, now, o.key, o.output);
        } else {
          // A new row: uses of the one it replaces (pending or written) are not its own.
          this.#usage.delete(usageId(o.key, o.output));
          s.prepare('DELETE FROM cache_records WHERE key = ? AND output = ?').run(o.key, o.output);
          s.prepare('INSERT INTO cache_records (key, output, result_id, record_type, description, created_at, last_used_at, use_count, size) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)')
            .run(o.key, o.output, o.resultId, o.recordType, o.description, now, now, o.size ?? null);
        }
        if (o.inputKeys) {
          s.prepare('DELETE FROM cache_record_inputs WHERE key = ? AND output = ?').run(o.key, o.output);
          const ins = s.prepare('INSERT INTO cache_record_inputs (key, output, idx, input_key) VALUES (?, ?, ?, ?)');
          o.inputKeys.forEach((k, i) => ins.run(o.key, o.output, i, k));
        }
        return this.get(o.key, o.output) as CacheRecord;
      });
      if (result !== 'retry') return result;
      if (attempt > 20) throw new TsbuildError('CACHE_RECORD_CONTENTION', `cache record ${o.key}#${o.output} keeps changing under a concurrent writer`);
    }
  }

  async invalidate(key: string, output: number, opts: SignalOptions = {}): Promise<void> {
    throwIfAborted(opts.signal);
    this.db.write(() => {
      this.db.prepare('DELETE FROM cache_records WHERE key = ? AND output = ?').run(key, output);
    });
    this.#usage.delete(usageId(key, output));
  }

  /** The record without touching its usage. */
  get(key: string, output: number): CacheRecord | undefined {
    const r = this.db.prepare('SELECT * FROM cache_records WHERE key = ? AND output = ?').get(key, output) as RecordRow | undefined;
    return r && this.#withUsage(rowToRecord(r));
  }

  /** Every record, least recently used first (pending uses written first, so the order counts them). */
  /** The snapshots the records hold (what a garbage walk needs of them; no usage flush). */
  resultIds(): Set<string> {
    const rows = this.db.prepare("SELECT DISTINCT result_id FROM cache_records WHERE result_id != ''").all() as { result_id: string }[];
    return new Set(rows.map((r) => r.result_id));
  }

  list(): CacheRecord[] {
    try {
      this.flushUsage();
    } catch {
      // Still pending (a busy database): counted below, though not in the order.
    }
    return (this.db.prepare('SELECT * FROM cache_records ORDER BY last_used_at, use_count, key, output').all() as RecordRow[]).map((r) => this.#withUsage(rowToRecord(r)));
  }

  /** Records holding a result. */
  byResult(resultId: string): CacheRecord[] {
    return (this.db.prepare('SELECT * FROM cache_records WHERE result_id = ? ORDER BY key, output').all(resultId) as RecordRow[]).map((r) => this.#withUsage(rowToRecord(r)));
  }

  /** The cache keys of a record's inputs, in order. */
  inputKeys(key: string, output: number): string[] {
    return (this.db.prepare('SELECT input_key FROM cache_record_inputs WHERE key = ? AND output = ? ORDER BY idx').all(key, output) as { input_key: string }[])
      .map((r) => r.input_key);
  }

  /** Records that list `inputKey` among their inputs (what depends on it). */
  dependents(inputKey: string): CacheRecord[] {
    return (this.db.prepare(`SELECT r.* FROM cache_records r JOIN cache_record_inputs i ON i.key = r.key AND i.output = r.output
      WHERE i.input_key = ? ORDER BY r.key, r.output`).all(inputKey) as RecordRow[]).map((r) => this.#withUsage(rowToRecord(r)));
  }

  /** Records a result size measured later (du). */
  setSize(resultId: string, size: number): void {
    this.db.write(() => {
      this.db.prepare('UPDATE cache_records SET size = ? WHERE result_id = ?').run(size, resultId);
    });
  }
}
