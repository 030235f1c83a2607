import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { CacheStorage } from '../../src/cache/cache-storage.js';
import type { CacheRecordStore } from '../../src/solver/cache-types.js';
import type { TestRoot } from './helpers/temp-root.js';
import { makeTestRoot } from './helpers/temp-root.js';

describe('SqliteCacheStore (the solver\'s CacheRecordStore)', () => {
  let t: TestRoot;
  let s: CacheStorage;
  let clock: number;
  beforeEach(async () => {
    t = await makeTestRoot();
    clock = 1_000_000;
    s = await t.open({ now: () => clock });
  });
  afterEach(async () => t.cleanup());

  test('save then lookup; a hit updates last used and use count', async () => {
    const store: CacheRecordStore = s.records;
    const snap = await t.inventory.create({ bytes: 10 });
    const saved = await store.save({ key: 'sha256:k1', output: 0, resultId: snap, recordType: 'regular', description: 'RUN make', size: 10, inputKeys: ['sha256:in'] });
    expect(saved).toMatchObject({ key: 'sha256:k1', resultId: snap, useCount: 0, createdAt: 1_000_000, lastUsedAt: 1_000_000, size: 10 });
    clock += 500;
    const hit = await store.lookup('sha256:k1', 0);
    expect(hit).toMatchObject({ resultId: snap, useCount: 1, lastUsedAt: 1_000_500, createdAt: 1_000_000, description: 'RUN make', recordType: 'regular' });
    expect(await store.lookup('sha256:k1', 1)).toBeUndefined();
    expect(await store.lookup('sha256:other', 0)).toBeUndefined();
    expect(s.records.inputKeys('sha256:k1', 0)).toEqual(['sha256:in']);
    expect(s.records.dependents('sha256:in').map((r) => r.key)).toEqual(['sha256:k1']);
  });

  test('an existing record whose result exists is kept; one whose result is gone is replaced', async () => {
    const a = await t.inventory.create();
    const b = await t.inventory.create();
    await s.records.save({ key: 'sha256:k', output: 0, resultId: a, recordType: 'regular', description: 'x' });
    const kept = await s.records.save({ key: 'sha256:k', output: 0, resultId: b, recordType: 'regular', description: 'x' });
    expect(kept.resultId).toBe(a);
    await t.inventory.remove(a);
    const replaced = await s.records.save({ key: 'sha256:k', output: 0, resultId: b, recordType: 'regular', description: 'x' });
    expect(replaced.resultId).toBe(b);
    expect((await s.records.lookup('sha256:k', 0))?.resultId).toBe(b);
  });

  test('replace overwrites a record whose result still exists (--no-cache)', async () => {
    const a = await t.inventory.create();
    const b = await t.inventory.create();
    await s.records.save({ key: 'sha256:r', output: 0, resultId: a, recordType: 'regular', description: 'x' });
    const replaced = await s.records.save({ key: 'sha256:r', output: 0, resultId: b, recordType: 'regular', description: 'x', replace: true });
    expect(replaced.resultId).toBe(b);
  });

  test('invalidate removes the record', async () => {
    await s.records.save({ key: 'sha256:k', output: 2, resultId: '', recordType: 'internal', description: 'meta' });
    expect(await s.records.lookup('sha256:k', 2)).toBeDefined();
    await s.records.invalidate('sha256:k', 2);
    expect(await s.records.lookup('sha256:k', 2)).toBeUndefined();
    expect(s.records.inputKeys('sha256:k', 2)).toEqual([]);
  });

  test('a lookup is a read: it answers while another process holds the write lock; its use is written later, in one transaction', async () => {
    const quick = await t.open({ now: () => clock, busyTimeoutMs: 50 });
    const snap = await t.inventory.create({ bytes: 10 });
    await quick.records.save({ key: 'sha256:a', output: 0, resultId: snap, recordType: 'regular', description: 'RUN a' });
    await quick.records.save({ key: 'sha256:b', output: 0, resultId: snap, recordType: 'regular', description: 'RUN b' });
    const other = new Database(join(t.root, 'metadata.db'));
    const row = (key: string): unknown => other.prepare('SELECT last_used_at, use_count FROM cache_records WHERE key = ?').get(key);
    try {
      other.exec('BEGIN IMMEDIATE');
      clock += 100;
      // A write transaction per lookup failed here with SQLITE_BUSY after the 50 ms busy timeout.
      expect(await quick.records.lookup('sha256:a', 0)).toMatchObject({ useCount: 1, lastUsedAt: 1_000_100 });
      clock += 100;
      expect(await quick.records.lookup('sha256:a', 0)).toMatchObject({ useCount: 2, lastUsedAt: 1_000_200 });
      expect(await quick.records.lookup('sha256:b', 0)).toMatchObject({ useCount: 1, lastUsedAt: 1_000_200 });
      other.exec('COMMIT');
      // Nothing written yet; this process's own reads count the pending uses.
      expect(row('sha256:a')).toEqual({ last_used_at: 1_000_000, use_count: 0 });
      expect(quick.records.get('sha256:a', 0)).toMatchObject({ useCount: 2, lastUsedAt: 1_000_200 });
      expect(quick.records.byResult(snap).map((r) => r.useCount)).toEqual([2, 1]);
      const before = Number(other.pragma('data_version', { simple: true }));
      quick.records.flushUsage();
      expect(Number(other.pragma('data_version', { simple: true }))).toBe(before + 1);
      expect(row('sha256:a')).toEqual({ last_used_at: 1_000_200, use_count: 2 });
      expect(row('sha256:b')).toEqual({ last_used_at: 1_000_200, use_count: 1 });
      expect(quick.records.get('sha256:a', 0)).toMatchObject({ useCount: 2, lastUsedAt: 1_000_200 });
      // A flush with nothing pending writes nothing.
      quick.records.flushUsage();
      expect(Number(other.pragma('data_version', { simple: true }))).toBe(before + 1);
      // Pending uses are written when the store closes; those of an invalidated record are dropped.
      await quick.records.lookup('sha256:a', 0);
      await quick.records.lookup('sha256:b', 0);
      await quick.records.invalidate('sha256:b', 0);
      await quick.records.save({ key: 'sha256:b', output: 0, resultId: snap, recordType: 'regular', description: 'RUN b' });
      quick.close();
      expect(row('sha256:a')).toEqual({ last_used_at: 1_000_200, use_count: 3 });
      expect(row('sha256:b')).toEqual({ last_used_at: 1_000_200, use_count: 0 });
    } finally {
      other.close();
    }
  });

  test('pending uses that cannot be written stay pending for the next flush', async () => {
    const quick = await t.open({ now: () => clock, busyTimeoutMs: 20 });
    await quick.records.save({ key: 'sha256:a', output: 0, resultId: '', recordType: 'internal', description: 'meta' });
    await quick.records.lookup('sha256:a', 0);
    const other = new Database(join(t.root, 'metadata.db'));
    try {
      other.exec('BEGIN IMMEDIATE');
      expect(() => quick.records.flushUsage()).toThrow(/locked|busy/i);
      await quick.records.lookup('sha256:a', 0);
      other.exec('COMMIT');
      quick.records.flushUsage();
      expect(other.prepare('SELECT use_count FROM cache_records').get()).toEqual({ use_count: 2 });
    } finally {
      other.close();
    }
  });

  test('an aborted signal rejects before touching the store', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(s.records.lookup('sha256:k', 0, { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
