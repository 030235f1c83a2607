import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
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

  test('an aborted signal rejects before touching the store', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(s.records.lookup('sha256:k', 0, { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
