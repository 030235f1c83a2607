/**
 * A collection right after an operation removes what the operation left, even when both fall in
 * one tick of the file system's coarse clock: a blob stamped in the same tick as the walk's start
 * used to count as young and stay (CI: a refused `image load` left its config blob). No lease is
 * open, so nothing protects the blob; the collection must take it every time.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import type { CacheStorage } from '../../src/cache/cache-storage.js';
import type { TestRoot } from './helpers/temp-root.js';
import { makeTestRoot } from './helpers/temp-root.js';

let t: TestRoot;
let s: CacheStorage;
beforeEach(async () => {
  t = await makeTestRoot();
  s = await t.open();
});
afterEach(async () => t.cleanup());

test('an unreferenced blob written just before a collection is collected, 30 times out of 30', async () => {
  const kept: string[] = [];
  for (let i = 0; i < 30; i++) {
    const blob = await s.content.put(`left behind ${i}`);
    const g = await s.collectGarbage();
    if (!g.blobsRemoved.includes(blob.digest)) kept.push(blob.digest);
  }
  expect(kept).toEqual([]);
});
