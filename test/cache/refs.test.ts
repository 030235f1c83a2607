import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { CacheStorage } from '../../src/cache/cache-storage.js';
import { killHard, spawnFixture, waitForLine } from './helpers/child.js';
import type { TestRoot } from './helpers/temp-root.js';
import { makeTestRoot } from './helpers/temp-root.js';

describe('refs', () => {
  let t: TestRoot;
  let s: CacheStorage;
  beforeEach(async () => {
    t = await makeTestRoot();
    s = await t.open();
  });
  afterEach(async () => t.cleanup());

  test('acquire/release count references; release is idempotent', async () => {
    const a = await s.refs.acquire('snap1', 'build-1', { parent: 'base', size: 5 });
    const b = await s.refs.acquire('snap1', 'build-2');
    expect(s.refs.count('snap1')).toBe(2);
    expect(s.refs.info('snap1')).toMatchObject({ parent: 'base', size: 5, liveHolders: ['build-1', 'build-2'], deadHolders: [] });
    await a.release();
    await a.release();
    expect(s.refs.count('snap1')).toBe(1);
    await b.release();
    expect(s.refs.count('snap1')).toBe(0);
    expect(s.refs.referenced().size).toBe(0);
  });

  test('refs of a killed process stop counting and are cleaned by repair', async () => {
    const child = spawnFixture('hold-ref.ts', [t.root, 'snapX']);
    try {
      await waitForLine(child, 'HOLDING');
      expect(s.refs.count('snapX')).toBe(1);
    } finally {
      await killHard(child);
    }
    expect(s.refs.count('snapX')).toBe(0);
    expect(s.refs.info('snapX')?.deadHolders).toEqual(['crash-test']);
    const report = await s.check();
    // snapX is no snapshot: with its holder dead, its ref row is an orphan too.
    expect(report.problems).toEqual([{ kind: 'dead-ref', resultId: 'snapX', holder: 'crash-test' }, { kind: 'orphan-ref', resultId: 'snapX' }]);
    await s.repair();
    expect((await s.check()).ok).toBe(true);
    expect(s.refs.info('snapX')).toBeUndefined();
  }, 60_000);

  test('a result being pruned by a live process cannot be acquired', async () => {
    s.db.write(() => expect(s.refs.tombstoneIfUnheld('snapP')).toBe(true));
    await expect(s.refs.acquire('snapP', 'late')).rejects.toMatchObject({ code: 'CACHE_RESULT_PRUNED' });
    s.refs.finishRemoval(['snapP']);
    const lease = await s.refs.acquire('snapP', 'later');
    // Held now, so a prune can no longer claim it.
    s.db.write(() => expect(s.refs.tombstoneIfUnheld('snapP')).toBe(false));
    await lease.release();
  });
});
