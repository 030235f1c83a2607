/** The data root's records a cache export starts from: every output of a cache key, with its links. */
import type { CacheRecord } from '../../solver/cache-types.js';
import type { CacheStorage } from '../cache-storage.js';
import { rowToRecord } from '../cache-record-store.js';

export interface LinkedRecord {
  readonly record: CacheRecord;
  /** Cache keys of the record's inputs, in order. */
  readonly inputs: readonly string[];
}

/** Every record stored under `key` (any output), without touching usage. */
export function recordsForKey(storage: CacheStorage, key: string): LinkedRecord[] {
  const rows = storage.db.prepare('SELECT * FROM cache_records WHERE key = ? ORDER BY output').all(key) as Parameters<typeof rowToRecord>[0][];
  return rows.map(rowToRecord).map((record) => ({ record, inputs: storage.records.inputKeys(record.key, record.output) }));
}
