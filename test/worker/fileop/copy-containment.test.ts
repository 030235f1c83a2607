/**
 * Symlinks in either root must never send a read or a write outside it. Every test plants links at
 * the canary directory (by absolute host path and by `../..`) and checks afterwards that the canary
 * is untouched and that the data landed inside the destination root.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { copy } from '../../../src/worker/fileop/copy.js';
import type { CopyAction } from '../../../src/worker/fileop/types.js';
import { canaryIntact, listTree, makeRoots, read, writeTree, type Roots, dockerCopy } from './fixture.js';

let r: Roots;
beforeEach(() => {
  r = makeRoots();
  writeTree(r.src, { 'a.txt': 'payload', 'd/sub/keep': 'from-src', 'd/other': 'o' });
});
afterEach(() => {
  expect(canaryIntact(r)).toBe(true);
  r.cleanup();
});

const run = (a: CopyAction) => copy(a, { srcRoot: r.src, destRoot: r.dest });

describe('containment: destination symlinks', () => {
  test('a destination link to an absolute host path resolves inside the destination root', async () => {
    writeTree(r.dest, { evil: { link: r.canary } });
    await run(dockerCopy('a.txt', '/evil/'));
    expect(read(r.dest, join(r.canary, 'a.txt'))).toBe('payload');
    expect(existsSync(join(r.canary, 'a.txt'))).toBe(false);
  });

  test('a destination link climbing with ../../.. stops at the destination root', async () => {
    writeTree(r.dest, { 'x/up': { link: '../../../../../../..' } });
    await run(dockerCopy('a.txt', '/x/up/canary/'));
    expect(read(r.dest, 'canary/a.txt')).toBe('payload');
  });

  test('a destination file that is a link to a host file is written inside the root instead', async () => {
    writeTree(r.dest, { 'etc/keep': { link: join(r.canary, 'keep') } });
    await run(dockerCopy('a.txt', '/etc/keep'));
    expect(read(r.dest, join(r.canary, 'keep'))).toBe('payload');
  });

  test('a link nested below the destination is replaced by a file, never written through', async () => {
    writeTree(r.dest, { 'out/other': { link: join(r.canary, 'keep') } });
    await run(dockerCopy('d', '/out'));
    expect(lstatSync(join(r.dest, 'out/other')).isFile()).toBe(true);
    expect(read(r.dest, 'out/other')).toBe('o');
  });

  test('a nested destination link where a directory must go fails (as BuildKit) and writes nothing through it', async () => {
    writeTree(r.dest, { 'out/sub': { link: r.canary } });
    await expect(run(dockerCopy('d', '/out'))).rejects.toMatchObject({ code: 'FILEOP_NOT_A_DIRECTORY' });
    await run(dockerCopy('d', '/out', { alwaysReplaceExistingDestPaths: true }));
    expect(lstatSync(join(r.dest, 'out/sub')).isDirectory()).toBe(true);
    expect(read(r.dest, 'out/sub/keep')).toBe('from-src');
  });

  test('--parents does not descend through a destination link', async () => {
    writeTree(r.dest, { 'p/d': { link: r.canary } });
    await expect(run(dockerCopy('d/other', '/p/', { parents: true }))).rejects.toMatchObject({ code: 'FILEOP_NOT_A_DIRECTORY' });
  });
});

describe('containment: source symlinks', () => {
  test('a source link to a host path is resolved inside the source root (not found there)', async () => {
    writeTree(r.src, { abs: { link: r.canary }, rel: { link: '../canary' } });
    await expect(run(dockerCopy('abs/keep', '/k'))).rejects.toMatchObject({ code: 'FILEOP_SOURCE_NOT_FOUND' });
    await expect(run(dockerCopy('rel/keep', '/k'))).rejects.toMatchObject({ code: 'FILEOP_SOURCE_NOT_FOUND' });
    await expect(run(dockerCopy('abs', '/k'))).rejects.toMatchObject({ code: 'FILEOP_SOURCE_NOT_FOUND' });
    expect(listTree(r.dest)).toEqual([]);
  });

  test('a followed source link escaping with .. lands on the source root', async () => {
    writeTree(r.src, { up: { link: '../../../..' } });
    await run(dockerCopy('up/a.txt', '/got'));
    expect(read(r.dest, 'got')).toBe('payload');
  });

  test('links inside a copied directory are copied as links, their targets never read', async () => {
    writeTree(r.src, { 'tree/host': { link: r.canary }, 'tree/hostfile': { link: join(r.canary, 'keep') } });
    await run(dockerCopy('tree', '/t'));
    expect(readlinkSync(join(r.dest, 't/host'))).toBe(r.canary);
    expect(lstatSync(join(r.dest, 't/hostfile')).isSymbolicLink()).toBe(true);
  });

  test('wildcards under an escaping link only see the source root', async () => {
    writeTree(r.src, { esc: { link: r.canary } });
    await expect(run(dockerCopy('esc/*', '/w/'))).rejects.toMatchObject({ code: 'FILEOP_NO_MATCH' });
  });
});
