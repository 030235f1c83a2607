/**
 * FileOpContext.linkSources (a COPY from the daemon's context copy, issue 14): a regular file whose
 * copy would equal it is hard-linked instead of copied. Anything a copy would make differently —
 * a mode or time override, an owner other than the source's, an xattr a copy drops — and a file
 * that already has other links (a layer holds it) is copied. A source reached twice (a followed
 * symlink and its target) is linked once and copied once: two paths on one inode would make the
 * layer tar a hardlink a copy does not make. Without the option nothing is linked.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { linkSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from '@napi-rs/xattr';
import { copy } from '../../../src/worker/fileop/copy.js';
import type { CopyAction } from '../../../src/worker/fileop/types.js';
import { makeRoots, read, writeTree, type Roots, dockerCopy } from './fixture.js';

const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const isRoot = me.uid === 0;

let r: Roots;
beforeEach(() => {
  r = makeRoots();
});
afterEach(() => {
  r.cleanup();
});

const ino = (root: string, p: string): number => lstatSync(join(root, p)).ino;
const run = (a: CopyAction, linkSources: boolean, owner = me) => copy(a, { srcRoot: r.src, destRoot: r.dest, defaultOwner: owner, linkSources });

test('links the files a copy would make equal; copies one with other links, and all of them without the option', async () => {
  writeTree(r.src, { 'a': 'a\n', 'sub/b': 'b\n', 'held': 'held\n' });
  linkSync(join(r.src, 'held'), join(r.base, 'layer-held'));
  const result = await run(dockerCopy('.', '/out/'), true);
  expect(ino(r.dest, 'out/a')).toBe(ino(r.src, 'a'));
  expect(ino(r.dest, 'out/sub/b')).toBe(ino(r.src, 'sub/b'));
  expect(ino(r.dest, 'out/held')).not.toBe(ino(r.src, 'held'));
  expect(read(r.dest, 'out/held')).toBe('held\n');
  expect(result.bytes).toBe(2 + 2 + 5);

  await run(dockerCopy('.', '/plain/'), false);
  for (const p of ['a', 'sub/b']) expect(ino(r.dest, `plain/${p}`)).not.toBe(ino(r.src, p));
});

test('copies where the copy differs: a mode or time override, another owner, an xattr a copy drops', async () => {
  writeTree(r.src, { 'a': 'a\n' });
  await run(dockerCopy('a', '/chmod/', { mode: 0o600 }), true);
  await run(dockerCopy('a', '/stamped/', { timestamp: 1_600_000_000 }), true);
  expect(ino(r.dest, 'chmod/a')).not.toBe(ino(r.src, 'a'));
  expect(ino(r.dest, 'stamped/a')).not.toBe(ino(r.src, 'a'));
  await run(dockerCopy('a', '/owned/'), true, { uid: me.uid + 1, gid: me.gid });
  expect(ino(r.dest, 'owned/a')).not.toBe(ino(r.src, 'a'));
  if (isRoot) {
    // Overlay's own attributes never travel with a copy (copyableXattr).
    writeTree(r.src, { 'x': 'x\n' });
    setAttributeSync(join(r.src, 'x'), 'trusted.overlay.opaque', 'y');
    await run(dockerCopy('x', '/xattr/'), true);
    expect(ino(r.dest, 'xattr/x')).not.toBe(ino(r.src, 'x'));
  }
  // Nothing of the source changed on the way.
  expect(lstatSync(join(r.src, 'a')).mode & 0o7777).toBe(0o644 & ~process.umask());
  expect(lstatSync(join(r.src, 'a')).nlink).toBe(1);
});

test('a source reached twice in one copy is linked once: the other path gets a copy', async () => {
  writeTree(r.src, { 't': 'target\n', 'l': { link: 't' } });
  await run(dockerCopy('*', '/out/'), true);
  const l = ino(r.dest, 'out/l');
  const t = ino(r.dest, 'out/t');
  expect(l).not.toBe(t);
  expect([l, t]).toContain(ino(r.src, 't'));
  expect([read(r.dest, 'out/l'), read(r.dest, 'out/t')]).toEqual(['target\n', 'target\n']);
});
