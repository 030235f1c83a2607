/**
 * Copied-up directories on real overlay mounts: a directory overlayfs copied into the upper dir
 * without changing it is not in the layer, unless something below it is (then it comes right before
 * that); changed, new and opaque directories are; the lower directory is found the way overlayfs
 * finds it (nearest layer first; whiteouts, non-directories and opaque ancestors hide older layers).
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { setAttributeSync } from '@napi-rs/xattr';
import { execFileSync } from 'node:child_process';
import { chmod, chown, lstat, mkdir, rm, rmdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Overlay2Differ } from '../../../src/worker/diff/differ.js';
import type { DiffOptions } from '../../../src/worker/types.js';
import { MountStubs } from '../../../src/worker/exec/mount-stubs.js';
import { Overlay2Snapshotter } from '../../../src/worker/snapshot/overlay2-snapshotter.js';
import { describeIf } from '../../helpers/skip.js';
import { canMount, makeTempDir, removeTempDir, whyNoMount } from '../snapshot/fixtures.js';
import { collect, listTar } from './tar-fixtures.js';

const T = 1_500_000_000;

/** Puts a directory's times back the way the executor's mount stubs do (float seconds via utimes). */
async function restoreTimes(path: string, before: { atimeNs: bigint; mtimeNs: bigint }): Promise<void> {
  await utimes(path, Number(before.atimeNs / 1000n) / 1e6, Number(before.mtimeNs / 1000n) / 1e6);
}

describeIf(canMount, whyNoMount, 'differ: copied-up directories', () => {
  let root: string;
  let snap: Overlay2Snapshotter;
  let differ: Overlay2Differ;

  beforeEach(async () => {
    root = await makeTempDir('tsbuild-copyup-');
    snap = new Overlay2Snapshotter({ root });
    differ = new Overlay2Differ({ snapshotter: snap });
  });
  afterEach(async () => {
    await snap.close();
    await removeTempDir(root);
  });

  async function names(id: string, opts: DiffOptions = {}): Promise<string[]> {
    return (await listTar(await collect(differ.diff(id, opts)))).map((e) => e.name);
  }

  /** A committed snapshot made by `fill` writing straight into its upper dir. */
  async function layer(parent: string | undefined, fill: (up: string) => Promise<void>): Promise<string> {
    const a = await snap.prepare(parent === undefined ? {} : { parent });
    await fill(a.upperDir);
    return snap.commit(a);
  }

  /** A committed child of `parent` whose changes `fn` makes through a real overlay mount. */
  async function run(parent: string, fn: (merged: string) => Promise<void>): Promise<{ id: string; upper: string }> {
    const a = await snap.prepare({ parent });
    await snap.withMount(a, fn);
    return { id: await snap.commit(a), upper: a.upperDir };
  }

  test('a directory copied up by creating and deleting a file, times restored, is not in the layer', async () => {
    const base = await layer(undefined, async (up) => {
      await mkdir(join(up, 'etc'));
      await writeFile(join(up, 'etc', 'passwd'), 'root:x:0:0::/:/bin/sh\n');
      // A time whose microseconds Node's utimes cannot restore exactly (libuv truncates the float).
      execFileSync('touch', ['-d', '@1700449230.864007258', join(up, 'etc')]);
    });
    const lowerEtc = await stat(join(snap.diffDir(base), 'etc'), { bigint: true });
    const child = await run(base, async (m) => {
      const before = await stat(join(m, 'etc'), { bigint: true });
      await writeFile(join(m, 'etc', 'hosts'), '');
      await rm(join(m, 'etc', 'hosts'));
      await restoreTimes(join(m, 'etc'), before);
      await mkdir(join(m, 'data', 'layer'), { recursive: true });
    });
    // overlayfs did copy /etc up, and its restored mtime is not the lower's to the nanosecond
    const upperEtc = await stat(join(child.upper, 'etc'), { bigint: true });
    expect(upperEtc.isDirectory()).toBe(true);
    expect(upperEtc.mtimeNs).not.toBe(lowerEtc.mtimeNs);
    expect(await names(child.id)).toEqual(['data/', 'data/layer/']);
  });

  test("the executor's mount stubs leave nothing in the layer", async () => {
    const base = await layer(undefined, async (up) => {
      for (const d of ['etc', 'dev', 'proc']) await mkdir(join(up, d));
      await writeFile(join(up, 'etc', 'passwd'), 'root:x:0:0::/:/bin/sh\n');
    });
    const child = await run(base, async (m) => {
      const stubs = await MountStubs.create(m, [
        { path: '/etc/hosts', kind: 'file' },
        { path: '/etc/resolv.conf', kind: 'file' },
        { path: '/etc/hostname', kind: 'file' },
        { path: '/run/secrets/s', kind: 'file' },
      ]);
      await writeFile(join(m, 'out.txt'), 'x');
      await stubs.remove();
    });
    expect((await lstat(join(child.upper, 'etc'))).isDirectory()).toBe(true);
    expect(await names(child.id)).toEqual(['out.txt']);
  });

  test('with something new inside, the unchanged directory comes right before it, ancestors first', async () => {
    const base = await layer(undefined, async (up) => {
      await mkdir(join(up, 'a', 'b', 'c'), { recursive: true });
      await mkdir(join(up, 'a', 'quiet'));
      await writeFile(join(up, 'a', 'b', 'old'), 'o');
      await writeFile(join(up, 'a', 'quiet', 'gone'), 'g');
      for (const d of ['a/b/c', 'a/b', 'a/quiet', 'a']) await utimes(join(up, d), T, T);
    });
    const child = await run(base, async (m) => {
      const before = new Map<string, { atimeNs: bigint; mtimeNs: bigint }>();
      for (const d of ['a', 'a/b', 'a/b/c', 'a/quiet']) before.set(d, await stat(join(m, d), { bigint: true }));
      await writeFile(join(m, 'a', 'b', 'c', 'new'), 'n');
      await writeFile(join(m, 'a', 'quiet', 'tmp'), 't');
      await rm(join(m, 'a', 'quiet', 'tmp'));
      await rm(join(m, 'a', 'quiet', 'gone')); // a whiteout below an unchanged directory
      await mkdir(join(m, 'a', 'z-copied'));
      await rmdir(join(m, 'a', 'z-copied'));
      for (const [d, t] of before) await restoreTimes(join(m, d), t);
    });
    const entries = await listTar(await collect(differ.diff(child.id)));
    expect(entries.map((e) => e.name)).toEqual(['a/', 'a/b/', 'a/b/c/', 'a/b/c/new', 'a/quiet/', 'a/quiet/.wh.gone']);
    // the held-back directories carry their own metadata
    expect(entries[1]).toMatchObject({ type: 'directory', mtime: T, mode: 0o755 });
  });

  test('chmod, chown, touch and an xattr on a lower directory put it in the layer', async () => {
    const dirs = ['chmodded', 'chowned', 'touched', 'xattred', 'untouched'];
    const base = await layer(undefined, async (up) => {
      for (const d of dirs) {
        await mkdir(join(up, d));
        await writeFile(join(up, d, 'f'), '');
        await utimes(join(up, d), T, T);
      }
    });
    const child = await run(base, async (m) => {
      await chmod(join(m, 'chmodded'), 0o700);
      await chown(join(m, 'chowned'), 1000, 1000);
      await utimes(join(m, 'touched'), T + 60, T + 60);
      setAttributeSync(join(m, 'xattred'), 'user.note', 'x');
      // copied up by the metadata changes above only; untouched is read, never copied up
      for (const d of ['chmodded', 'chowned', 'xattred']) await utimes(join(m, d), T, T);
      await stat(join(m, 'untouched', 'f'));
    });
    expect(await names(child.id)).toEqual(['chmodded/', 'chowned/', 'touched/', 'xattred/']);
  });

  test('new and opaque directories are in the layer, even with the lower metadata', async () => {
    const base = await layer(undefined, async (up) => {
      await mkdir(join(up, 'replaced'));
      await writeFile(join(up, 'replaced', 'old'), 'o');
      await utimes(join(up, 'replaced'), T, T);
    });
    const child = await run(base, async (m) => {
      await rm(join(m, 'replaced'), { recursive: true });
      await mkdir(join(m, 'replaced'), { mode: 0o755 });
      await utimes(join(m, 'replaced'), T, T);
      await mkdir(join(m, 'fresh'), { mode: 0o755 });
      await utimes(join(m, 'fresh'), T, T);
    });
    expect(await names(child.id)).toEqual(['fresh/', 'replaced/', 'replaced/.wh..wh..opq']);
  });

  test('the nearest layer that has the path decides, also a grandparent', async () => {
    const grand = await layer(undefined, async (up) => {
      for (const d of ['g', 'p', 'deep/sub']) await mkdir(join(up, d), { recursive: true, mode: 0o755 });
      for (const d of ['g', 'p', 'deep/sub', 'deep']) await utimes(join(up, d), T, T);
    });
    // the parent changes p's mode, leaves g alone, and has deep/ (copied up) but not deep/sub/
    const parent = await layer(grand, async (up) => {
      await mkdir(join(up, 'p'), { mode: 0o700 });
      await chmod(join(up, 'p'), 0o700);
      await utimes(join(up, 'p'), T, T);
      await mkdir(join(up, 'deep'), { mode: 0o755 });
      await writeFile(join(up, 'deep', 'from-parent'), '');
      await utimes(join(up, 'deep'), T, T);
    });
    const child = await layer(parent, async (up) => {
      await mkdir(join(up, 'g'), { mode: 0o755 }); // as in the grandparent: unchanged
      await utimes(join(up, 'g'), T, T);
      await mkdir(join(up, 'p'), { mode: 0o755 }); // as in the grandparent, not the parent: changed
      await chmod(join(up, 'p'), 0o755);
      await utimes(join(up, 'p'), T, T);
      await mkdir(join(up, 'deep', 'sub'), { recursive: true, mode: 0o755 }); // its lower is in the grandparent
      for (const d of ['deep/sub', 'deep']) await utimes(join(up, d), T, T);
    });
    expect(await names(child)).toEqual(['p/']);
  });

  test('a lower directory hidden by an opaque ancestor, a whiteout or a file in the parent does not count', async () => {
    const grand = await layer(undefined, async (up) => {
      for (const d of ['o/hidden', 'w', 'f']) await mkdir(join(up, d), { recursive: true });
      for (const d of ['o/hidden', 'o', 'w', 'f']) await utimes(join(up, d), T, T);
    });
    const parent = await run(grand, async (m) => {
      await rm(join(m, 'o'), { recursive: true });
      await mkdir(join(m, 'o'), { mode: 0o755 }); // opaque: hides o/hidden
      await utimes(join(m, 'o'), T, T);
      await rmdir(join(m, 'w')); // whiteout
      await rmdir(join(m, 'f'));
      await writeFile(join(m, 'f'), 'a file now');
    });
    const up = snap.diffDir(parent.id);
    expect((await lstat(join(up, 'w'))).isCharacterDevice()).toBe(true);
    const child = await layer(parent.id, async (cup) => {
      // each as it was in the grandparent
      for (const d of ['o/hidden', 'w', 'f']) await mkdir(join(cup, d), { recursive: true, mode: 0o755 });
      for (const d of ['o/hidden', 'o', 'w', 'f']) await utimes(join(cup, d), T, T);
    });
    expect(await names(child)).toEqual(['f/', 'o/', 'o/hidden/', 'w/']);
  });

  test('equal means equal as the layer records it: whole seconds, after SOURCE_DATE_EPOCH', async () => {
    const base = await layer(undefined, async (up) => {
      for (const d of ['subsecond', 'clamped']) await mkdir(join(up, d));
      await utimes(join(up, 'subsecond'), T + 0.25, T + 0.25);
      await utimes(join(up, 'clamped'), T, T);
    });
    const child = await layer(base, async (up) => {
      for (const d of ['subsecond', 'clamped']) await mkdir(join(up, d));
      await utimes(join(up, 'subsecond'), T + 0.75, T + 0.75);
      await utimes(join(up, 'clamped'), T + 3600, T + 3600);
    });
    expect(await names(child)).toEqual(['clamped/']);
    expect(await names(child, { sourceDateEpoch: T })).toEqual([]);
    expect(await names(child, { sourceDateEpoch: T + 60 })).toEqual(['clamped/']);
  });
});
