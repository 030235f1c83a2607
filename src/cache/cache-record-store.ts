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

  constructor(opts: SqliteCacheStoreOptions) {
    this.db = opts.db;
    this.inventory = opts.inventory;
    this.now = opts.now ?? Date.now;
    const leases = opts.leases;
    if (leases) this.lease = (key, o) => leases.acquire(key, o);
  }

  readonly lease?: (key: string, opts: LeaseOptions) => Promise<StepLease>;

  async lookup(key: string, output: number, opts: SignalOptions = {}): Promise<CacheRecord | undefined> {
    throwIfAborted(opts.signal);
    const s = this.db;
    return this.db.write(() => {
      const now = this.now();
      const changed = s.prepare('UPDATE cache_records SET last_used_at = MAX(last_used_at, ?), use_count = use_count + 1 WHERE key = ? AND output = ?').run(now, key, output);
      if (changed.changes === 0) return undefined;
      return rowToRecord(s.prepare('SELECT * FROM cache_records WHERE key = ? AND output = ?').get(key, output) as RecordRow);
    });
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
  }

  /** The record without touching its usage. */
  get(key: string, output: number): CacheRecord | undefined {
    const r = this.db.prepare('SELECT * FROM cache_records WHERE key = ? AND output = ?').get(key, output) as RecordRow | undefined;
    return r && rowToRecord(r);
  }

  /** Every record, least recently used first. */
  list(): CacheRecord[] {
    return (this.db.prepare('SELECT * FROM cache_records ORDER BY last_used_at, use_count, key, output').all() as RecordRow[]).map(rowToRecord);
  }

  /** Records holding a result. */
  byResult(resultId: string): CacheRecord[] {
    return (this.db.prepare('SELECT * FROM cache_records WHERE result_id = ? ORDER BY key, output').all(resultId) as RecordRow[]).map(rowToRecord);
  }

  /** The cache keys of a record's inputs, in order. */
  inputKeys(key: string, output: number): string[] {
    return (this.db.prepare('SELECT input_key FROM cache_record_inputs WHERE key = ? AND output = ? ORDER BY idx').all(key, output) as { input_key: string }[])
      .map((r) => r.input_key);
  }

  /** Records that list `inputKey` among their inputs (what depends on it). */
  dependents(inputKey: string): CacheRecord[] {
    return (this.db.prepare(`SELECT r.* FROM cache_records r JOIN cache_record_inputs i ON i.key = r.key AND i.output = r.output
      WHERE i.input_key = ? ORDER BY r.key, r.output`).all(inputKey) as RecordRow[]).map(rowToRecord);
  }

  /** Records a result size measured later (du). */
  setSize(resultId: string, size: number): void {
    this.db.write(() => {
      this.db.prepare('UPDATE cache_records SET size = ? WHERE result_id = ?').run(size, resultId);
    });
  }
}
