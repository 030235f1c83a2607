/**
 * Layer figures kept by top snapshot (src/engine/layer-usage.ts): a committed snapshot's layers
 * never change, so the second ask for the same top snapshot (a no-op rebuild ends on it) answers
 * from memory without walking any layer, a new top is walked, and the least recently used top is
 * dropped beyond the bound. The snapshotter is a real directory per layer behind the two methods
 * the figures read.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LayerUsageCache } from '../../src/engine/layer-usage.js';
import { DiffWalkCache } from '../../src/worker/snapshot/diff-walk.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-usage-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Layers `a` (bottom) … as directories; `chains` says each top's chain, top first. */
function snapshotter(chains: Readonly<Record<string, readonly string[]>>, walked: string[]) {
  return {
    chain: async (id: string): Promise<readonly string[]> => {
      walked.push(id);
      return chains[id] ?? [];
    },
    diffDir: (id: string): string => join(dir, id),
  };
}

test('the same top snapshot is walked once; another top is walked; the oldest top is dropped beyond the bound', async () => {
  await mkdir(join(dir, 'a'));
  await writeFile(join(dir, 'a', 'x'), 'xxxx');
  await mkdir(join(dir, 'b'));
  await writeFile(join(dir, 'b', 'x'), 'yy');
  await mkdir(join(dir, 'c'));
  await writeFile(join(dir, 'c', 'z'), 'z');
  const walked: string[] = [];
  const s = snapshotter({ b: ['b', 'a'], c: ['c', 'a'] }, walked);
  const cache = new LayerUsageCache({ max: 1 });
  const signal = new AbortController().signal;
  const first = await cache.get(s, 'b', signal);
  expect(first).toEqual([{ size: 4, files: 1, wastedBytes: 4 }, { size: 2, files: 1, wastedBytes: 0 }]);
  expect(await cache.get(s, 'b', signal)).toEqual(first);
  expect(walked).toEqual(['b']);
  expect(await cache.get(s, 'c', signal)).toEqual([{ size: 4, files: 1, wastedBytes: 0 }, { size: 1, files: 1, wastedBytes: 0 }]);
  // max 1: b was dropped when c came in.
  await cache.get(s, 'b', signal);
  expect(walked).toEqual(['b', 'c', 'b']);
});

test('a file over a lower directory wastes everything under it, and only that (opaque directories: test/integration/build/report.test.ts)', async () => {
  for (const [layer, files] of Object.entries({ a: { 'd/x': 'xxxx', 'd/s/y': 'yy', 'e/z': 'z' }, b: { d: 'file' }, c: { 'e/z2': 'new' } })) {
    for (const [p, data] of Object.entries(files)) {
      await mkdir(join(dir, layer, p, '..'), { recursive: true });
      await writeFile(join(dir, layer, p), data);
    }
  }
  const s = snapshotter({ c: ['c', 'b', 'a'] }, []);
  expect(await new LayerUsageCache().get(s, 'c', new AbortController().signal)).toEqual([
    { size: 7, files: 3, wastedBytes: 6 },
    { size: 4, files: 1, wastedBytes: 0 },
    { size: 3, files: 1, wastedBytes: 0 },
  ]);
});

test('a new top walks only its new layers; layer walks beyond the entry bound are walked again', async () => {
  for (const [layer, files] of Object.entries({ a: { 'bin/sh': 'shsh', 'etc/p': 'p' }, b: { 'data/f': 'one' }, c: { 'data/f': 'two!' } })) {
    for (const [p, data] of Object.entries(files)) {
      await mkdir(join(dir, layer, p, '..'), { recursive: true });
      await writeFile(join(dir, layer, p), data);
    }
  }
  const read: string[] = [];
  const s = {
    chain: async (id: string): Promise<readonly string[]> => ({ b: ['b', 'a'], c: ['c', 'a'] })[id] ?? [],
    diffDir: (id: string): string => {
      read.push(id);
      return join(dir, id);
    },
  };
  const signal = new AbortController().signal;
  const cache = new LayerUsageCache();
  await cache.get(s, 'b', signal);
  expect(await cache.get(s, 'c', signal)).toEqual([{ size: 5, files: 2, wastedBytes: 0 }, { size: 4, files: 1, wastedBytes: 0 }]);
  // The base layer `a` was walked once, for b; c walked only itself.
  expect(read).toEqual(['a', 'b', 'c']);

  // Room for 5 entries: a (bin, bin/sh, etc, etc/p) fits, then b's 2 push it out.
  const small = new LayerUsageCache({ maxWalkEntries: 5 });
  read.length = 0;
  await small.get(s, 'b', signal);
  await small.get(s, 'c', signal);
  expect(read).toEqual(['a', 'b', 'a', 'c']);
});

test("a layer whose walk the given walks hold is not walked again (the engine's: a new result's walk at commit)", async () => {
  for (const [layer, files] of Object.entries({ a: { 'x': 'xxxx' }, b: { 'y': 'yy' } })) {
    for (const [p, data] of Object.entries(files)) {
      await mkdir(join(dir, layer, p, '..'), { recursive: true });
      await writeFile(join(dir, layer, p), data);
    }
  }
  const read: string[] = [];
  const s = {
    chain: async (id: string): Promise<readonly string[]> => ({ b: ['b', 'a'] })[id] ?? [],
    diffDir: (id: string): string => {
      read.push(id);
      return join(dir, id);
    },
  };
  const walks = new DiffWalkCache();
  // What b's walk at commit found (b's directory holds something else now: the figures show which was read).
  const facts = { dev: 1, ino: 1, size: 1, mtimeMs: 1, nlink: 1 };
  walks.set('b', new Map([['y', { kind: 'file', size: 7, facts }], ['z', { kind: 'file', size: 1, facts }]]));
  expect(await new LayerUsageCache({ walks }).get(s, 'b', new AbortController().signal)).toEqual([{ size: 4, files: 1, wastedBytes: 0 }, { size: 8, files: 2, wastedBytes: 0 }]);
  expect(read).toEqual(['a']);
  expect(walks.get('a')?.get('x')).toMatchObject({ kind: 'file', size: 4 });
});
