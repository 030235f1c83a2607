/**
 * Real overlay mounts: what a view shows, that writes through a rw mount land in diff/ in overlay
 * format, reference counting, volatile rw mounts, and that no mount survives a failure or an abort.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { getAttributeSync } from '@napi-rs/xattr';
import { lstat, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Overlay2Snapshotter } from '../../../src/worker/snapshot/overlay2-snapshotter.js';
import { describeIf } from '../../helpers/skip.js';
import { deferred } from '../../helpers/wait-for.js';
import { canMount, makeTempDir, mountsUnder, removeTempDir, whyNoMount } from './fixtures.js';

describeIf(canMount, whyNoMount, 'overlay2 snapshotter mounts', () => {
  let root: string;
  let snap: Overlay2Snapshotter;

  beforeEach(async () => {
    root = await makeTempDir();
    snap = new Overlay2Snapshotter({ root });
  });
  afterEach(async () => {
    await snap.close();
    await removeTempDir(root);
  });

  async function baseWithFiles(): Promise<string> {
    const base = await snap.prepare();
    await writeFile(join(base.upperDir, 'a'), 'A');
    await mkdir(join(base.upperDir, 'd'));
    await writeFile(join(base.upperDir, 'd', 'b'), 'B');
    await mkdir(join(base.upperDir, 'keep'));
    await writeFile(join(base.upperDir, 'keep', 'old'), 'old');
    return snap.commit(base);
  }

  test('a rw mount records deletions as whiteouts and a replaced directory as opaque', async () => {
    const base = await baseWithFiles();
    const child = await snap.prepare({ parent: base });
    await snap.withMount(child, async (merged) => {
      expect(await readFile(join(merged, 'd', 'b'), 'utf8')).toBe('B');
      await rm(join(merged, 'a'));
      await rm(join(merged, 'd'), { recursive: true });
      await rm(join(merged, 'keep'), { recursive: true });
      await mkdir(join(merged, 'keep'));
      await writeFile(join(merged, 'keep', 'new'), 'new');
      await writeFile(join(merged, 'added'), 'added');
    });
    expect(await mountsUnder(root)).toEqual([]);
    const up = child.upperDir;
    for (const gone of ['a', 'd']) {
      const st = await lstat(join(up, gone));
      expect(st.isCharacterDevice()).toBe(true);
      expect(st.rdev).toBe(0);
    }
    expect(getAttributeSync(join(up, 'keep'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect((await readdir(up)).sort()).toEqual(['a', 'added', 'd', 'keep']);
    await snap.commit(child);

    await snap.withView(child.id, async (view) => {
      expect((await readdir(view)).sort()).toEqual(['added', 'keep']);
      expect(await readdir(join(view, 'keep'))).toEqual(['new']);
      await expect(writeFile(join(view, 'x'), 'x')).rejects.toThrow(/EROFS/);
    });
    // The parent still shows its own content.
    await snap.withView(base, async (view) => {
      expect((await readdir(view)).sort()).toEqual(['a', 'd', 'keep']);
    });
  });

  test('two users of a view share one mount; the last release unmounts', async () => {
    const base = await baseWithFiles();
    const [r1, r2] = await Promise.all([snap.view(base), snap.view(base)]);
    expect(r1.path).toBe(r2.path);
    expect(r1.access).toBe('ro');
    expect(await mountsUnder(root)).toEqual([r1.path]);
    await r1.release();
    await r1.release(); // idempotent: must not steal r2's reference
    expect(await mountsUnder(root)).toEqual([r1.path]);
    expect(await readFile(join(r2.path, 'a'), 'utf8')).toBe('A');
    await r2.release();
    expect(await mountsUnder(root)).toEqual([]);
    // The per-process mount point is removed with the mount.
    expect(await readdir(join(root, 'overlay2', base, 'views'))).toEqual([]);
  });

  test('two snapshotters (two engines) view the same snapshot independently', async () => {
    const base = await baseWithFiles();
    const other = new Overlay2Snapshotter({ root });
    const r1 = await snap.view(base);
    const r2 = await other.view(base);
    expect(r1.path).not.toBe(r2.path);
    await r1.release();
    expect(await readFile(join(r2.path, 'a'), 'utf8')).toBe('A');
    await expect(snap.remove(base)).rejects.toMatchObject({ code: 'SNAPSHOT_IN_USE' });
    await r2.release();
    await other.close();
    expect(await mountsUnder(root)).toEqual([]);
  });

  test('a throw inside the mounted callback leaves no mount', async () => {
    const base = await baseWithFiles();
    const child = await snap.prepare({ parent: base });
    await expect(snap.withMount(child, async () => {
      throw new Error('step failed');
    })).rejects.toThrow('step failed');
    await expect(snap.withView(base, async () => {
      throw new Error('copy failed');
    })).rejects.toThrow('copy failed');
    expect(await mountsUnder(root)).toEqual([]);
    // Both can be mounted again afterwards.
    await snap.withMount(child, async (m) => expect(await readFile(join(m, 'a'), 'utf8')).toBe('A'));
    expect(await mountsUnder(root)).toEqual([]);
  });

  test('aborting while mounting or while mounted leaves no mount', async () => {
    const base = await baseWithFiles();
    const pre = new AbortController();
    pre.abort(new Error('user pressed ^C'));
    await expect(snap.view(base, { signal: pre.signal })).rejects.toMatchObject({ code: 'CANCELLED' });

    // Abort after the mount started but before it finished.
    const mid = new AbortController();
    const p = snap.view(base, { signal: mid.signal });
    mid.abort(new Error('timeout'));
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await mountsUnder(root)).toEqual([]);

    // Abort while the callback works: the callback observes the signal and the mount is undone.
    const during = new AbortController();
    const child = await snap.prepare({ parent: base });
    const inside = deferred<string>();
    const run = snap.withMount(child, (merged) => new Promise<void>((_resolve, reject) => {
      during.signal.addEventListener('abort', () => reject(during.signal.reason as Error));
      inside.resolve(merged);
    }), { signal: during.signal });
    // The callback runs once the mount is up: wait for it, not for a guess at how long mounting takes.
    expect(await inside.promise).toBe(child.mergedDir);
    expect(await mountsUnder(root)).toEqual([child.mergedDir]);
    during.abort(new Error('cancel build'));
    await expect(run).rejects.toThrow('cancel build');
    expect(await mountsUnder(root)).toEqual([]);
  });

  test('commit and remove are refused while mounted; close() releases everything', async () => {
    const base = await baseWithFiles();
    const child = await snap.prepare({ parent: base });
    const ref = await snap.mount(child);
    expect(ref.access).toBe('rw');
    await expect(snap.commit(child)).rejects.toMatchObject({ code: 'SNAPSHOT_IN_USE' });
    await expect(snap.remove(child.id)).rejects.toMatchObject({ code: 'SNAPSHOT_IN_USE' });
    await expect(snap.view(child.id)).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_COMMITTED' });
    await expect(snap.mount(base)).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_ACTIVE' });
    await snap.view(base);
    expect((await mountsUnder(root)).length).toBe(2);
    await snap.close();
    expect(await mountsUnder(root)).toEqual([]);
    await ref.release(); // after close: a no-op, not an error
    await snap.commit(child);
  });

  test('an active base snapshot (no parent) mounts read-write', async () => {
    const a = await snap.prepare();
    await snap.withMount(a, async (m) => {
      await writeFile(join(m, 'f'), 'x');
    });
    expect(await readFile(join(a.upperDir, 'f'), 'utf8')).toBe('x');
    await snap.commit(a);
    await snap.withView(a.id, async (v) => expect(await readdir(v)).toEqual(['f']));
  });

  test('a rw mount is volatile (no sync of the upper filesystem on unmount) and can be mounted again', async () => {
    const a = await snap.prepare();
    await snap.withMount(a, async (m) => {
      const line = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[4] === m) ?? '';
      // Super options, the last field: `volatile`, or `fsync=volatile` on kernels since 6.x.
      expect(line.split(' ').pop()?.split(',').some((o) => o === 'volatile' || o === 'fsync=volatile')).toBe(true);
      await writeFile(join(m, 'f'), 'x');
    });
    // The kernel's marker of the first mount would make this one fail.
    await snap.withMount(a, async (m) => {
      expect(await readFile(join(m, 'f'), 'utf8')).toBe('x');
    });
    await snap.commit(a);
  });
});
