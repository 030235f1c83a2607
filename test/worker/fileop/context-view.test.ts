/**
 * How a COPY sees the build context: .dockerignore'd entries do not exist (not copied, not matched
 * by wildcards, "not found" when named), and context files belong to root unless --chown says
 * otherwise — while archives unpacked by ADD keep their own owners.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chownSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { copy } from '../../../src/worker/fileop/copy.js';
import type { CopyAction } from '../../../src/worker/fileop/types.js';
import { canaryIntact, listTree, makeRoots, writeTree, type Roots } from './fixture.js';

const dockerCopy = (src: string, dest: string, extra: CopyAction = {}): CopyAction => ({ src, dest, followSymlink: true, dirCopyContents: true, createDestPath: true, allowWildcard: true, mode: -1, timestamp: -1, ...extra });

let r: Roots;
beforeEach(() => {
  r = makeRoots();
  writeTree(r.src, { 'keep.txt': 'k', 'secret.txt': 's', 'logs/a.log': 'a', 'logs/keep.log': 'k', 'dir/inner.txt': 'i' });
});
afterEach(() => {
  expect(canaryIntact(r)).toBe(true);
  r.cleanup();
});

const context = { srcExcludes: ['secret.txt', 'logs', '!logs/keep.log'] };

test('excluded entries are not copied with a directory, and an exception re-includes', async () => {
  await copy(dockerCopy('.', '/ctx/'), { srcRoot: r.src, destRoot: r.dest, ...context });
  expect(listTree(join(r.dest, 'ctx'))).toEqual(['d dir', 'f dir/inner.txt', 'f keep.txt', 'd logs', 'f logs/keep.log']);
});

test('wildcards do not match excluded entries; naming one is "not found"', async () => {
  await copy(dockerCopy('*.txt', '/w/'), { srcRoot: r.src, destRoot: r.dest, ...context });
  expect(listTree(join(r.dest, 'w'))).toEqual(['f keep.txt']);
  await expect(copy(dockerCopy('secret.txt', '/s'), { srcRoot: r.src, destRoot: r.dest, ...context })).rejects.toMatchObject({ code: 'FILEOP_SOURCE_EXCLUDED', message: expect.stringContaining('.dockerignore') });
});

test('context files get the default owner unless the action names one; archives keep theirs', async () => {
  chownSync(join(r.src, 'keep.txt'), 1234, 5678);
  await copy(dockerCopy('keep.txt', '/k'), { srcRoot: r.src, destRoot: r.dest, defaultOwner: { uid: 0, gid: 0 } });
  expect(lstatSync(join(r.dest, 'k'))).toMatchObject({ uid: 0, gid: 0 });
  await copy(dockerCopy('keep.txt', '/k2', { owner: { user: { byId: 7 }, group: { byId: 8 } } }), { srcRoot: r.src, destRoot: r.dest, defaultOwner: { uid: 0, gid: 0 } });
  expect(lstatSync(join(r.dest, 'k2'))).toMatchObject({ uid: 7, gid: 8 });

  execFileSync('tar', ['--owner=1234', '--group=5678', '-C', join(r.src, 'dir'), '-czf', join(r.src, 'a.tgz'), 'inner.txt']);
  await copy(dockerCopy('a.tgz', '/unpacked/', { attemptUnpackDockerCompatibility: true }), { srcRoot: r.src, destRoot: r.dest, defaultOwner: { uid: 0, gid: 0 } });
  expect(lstatSync(join(r.dest, 'unpacked', 'inner.txt'))).toMatchObject({ uid: 1234, gid: 5678 });
});
