/**
 * One walk of a committed diff for both of its figures (src/worker/snapshot/diff-walk.ts): du's size
 * of the tree is exactly what treeUsage counts (allocated blocks, the root included, a hard-linked
 * inode once), and the entries are what the image's layer figures read (sorted, parents first, a
 * second hard link to a file without size, symlinks by target length, directories opaque or not).
 * The walks a cache keeps are dropped least recently used beyond its entry bound.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { linkSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiffWalkCache, walkDiff } from '../../../src/worker/snapshot/diff-walk.js';
import { treeUsage } from '../../../src/util/tree-usage.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbuild-diff-walk-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});
const signal = new AbortController().signal;

test("du's figures equal treeUsage's; the entries are the layer figures' (sorted, parents first, a second hard link without size)", async () => {
  mkdirSync(join(dir, 'b/sub'), { recursive: true });
  mkdirSync(join(dir, 'a'));
  writeFileSync(join(dir, 'b/sub/big'), Buffer.alloc(20_000, 1));
  writeFileSync(join(dir, 'a/one'), 'one\n');
  linkSync(join(dir, 'a/one'), join(dir, 'b/one-again'));
  linkSync(join(dir, 'a/one'), join(dir, 'b/sub/one-thrice'));
  symlinkSync('a/one', join(dir, 'link'));
  const w = await walkDiff(dir, signal);
  expect(w.usage).toEqual(await treeUsage(dir));
  // A file's facts are its lstat's (for the layer tar), the hard links' too.
  const one = lstatSync(join(dir, 'a/one'));
  for (const p of ['a/one', 'b/one-again']) {
    const e = w.entries.get(p);
    expect(e?.kind === 'file' ? e.facts : undefined).toEqual({ dev: one.dev, ino: one.ino, size: 4, mtimeMs: one.mtimeMs, nlink: 3 });
  }
  expect([...w.entries].map(([p, e]) => [p, e.kind === 'file' ? { kind: e.kind, size: e.size } : e])).toEqual([
    ['a', { kind: 'dir', opaque: false }],
    ['a/one', { kind: 'file', size: 4 }],
    ['b', { kind: 'dir', opaque: false }],
    ['b/one-again', { kind: 'file', size: 0 }],
    ['b/sub', { kind: 'dir', opaque: false }],
    ['b/sub/big', { kind: 'file', size: 20_000 }],
    ['b/sub/one-thrice', { kind: 'file', size: 0 }],
    ['link', { kind: 'symlink', size: 5 }],
  ]);
  expect(await walkDiff(join(dir, 'missing'), signal)).toEqual({ entries: new Map(), usage: { bytes: 0, inodes: 0 } });
});

test('the cache drops the least recently used walks beyond its entry bound, and keeps none bigger than it', async () => {
  const facts = { dev: 1, ino: 1, size: 1, mtimeMs: 1, nlink: 1 };
  const walk = (n: number) => new Map(Array.from({ length: n }, (_, i) => [`f${i}`, { kind: 'file' as const, size: i, facts }]));
  const cache = new DiffWalkCache(4);
  cache.set('a', walk(2));
  cache.set('b', walk(2));
  expect(cache.get('a')?.size).toBe(2); // a is now the most recently used
  cache.set('c', walk(1));
  expect(cache.get('b')).toBeUndefined();
  expect(cache.get('a')?.size).toBe(2);
  expect(cache.get('c')?.size).toBe(1);
  cache.set('d', walk(5));
  expect(cache.get('d')).toBeUndefined();
});
