/**
 * Snapshot lifecycle and the on-disk layout: prepare/commit/remove, parent and chain bookkeeping,
 * Docker-compatible link/lower files and GraphDriver data, usage.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { lstat, mkdir, readFile, readlink, readdir, rename, symlink, writeFile, link } from 'node:fs/promises';
import { join } from 'node:path';
import { Overlay2Snapshotter } from '../../../src/worker/snapshot/overlay2-snapshotter.js';
import { countPoolTrips } from '../../helpers/pool-trips.js';
import { describeIf } from '../../helpers/skip.js';
import { canMount, makeTempDir, removeTempDir, whyNoMount } from './fixtures.js';

describeIf(canMount, whyNoMount, 'overlay2 snapshotter lifecycle', () => {
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

  test('prepare, commit and the Docker overlay2 files', async () => {
    const base = await snap.prepare();
    expect(base.id).toMatch(/^[0-9a-f]{64}$/);
    expect(base.upperDir).toBe(join(root, 'overlay2', base.id, 'diff'));
    await writeFile(join(base.upperDir, 'hello'), 'hi');
    expect(await snap.commit(base)).toBe(base.id);

    const child = await snap.prepare({ parent: base.id });
    await snap.commit(child);
    const grandchild = await snap.prepare({ parent: child.id });

    const dir = join(root, 'overlay2');
    const baseLink = await readFile(join(dir, base.id, 'link'), 'utf8');
    const childLink = await readFile(join(dir, child.id, 'link'), 'utf8');
    expect(baseLink).toMatch(/^[A-Z0-9]{6}$/);
    expect(await readlink(join(dir, 'l', baseLink))).toBe(`../${base.id}/diff`);
    // lower: the parents' links, nearest first, like Docker.
    await expect(readFile(join(dir, base.id, 'lower'), 'utf8')).rejects.toThrow(/ENOENT/);
    expect(await readFile(join(dir, child.id, 'lower'), 'utf8')).toBe(`l/${baseLink}`);
    expect(await readFile(join(dir, grandchild.id, 'lower'), 'utf8')).toBe(`l/${childLink}:l/${baseLink}`);
    for (const d of ['diff', 'work', 'merged']) expect((await lstat(join(dir, grandchild.id, d))).isDirectory()).toBe(true);

    expect(await snap.parent(grandchild.id)).toBe(child.id);
    expect(await snap.parent(base.id)).toBeUndefined();
    expect(await snap.chain(grandchild.id)).toEqual([grandchild.id, child.id, base.id]);
    const kinds = Object.fromEntries((await snap.list()).map((i) => [i.id, i.kind]));
    expect(kinds).toEqual({ [base.id]: 'committed', [child.id]: 'committed', [grandchild.id]: 'active' });

    expect(await snap.graphDriverData(grandchild.id)).toEqual({
      LowerDir: `${join(dir, child.id, 'diff')}:${join(dir, base.id, 'diff')}`,
      UpperDir: join(dir, grandchild.id, 'diff'),
      MergedDir: join(dir, grandchild.id, 'merged'),
      WorkDir: join(dir, grandchild.id, 'work'),
    });
    const baseData = await snap.graphDriverData(base.id);
    expect(baseData).not.toHaveProperty('LowerDir');
    expect(baseData.UpperDir).toBe(join(dir, base.id, 'diff'));
  });

  test('prepare refuses an active parent; commit refuses twice; unknown and malformed ids', async () => {
    const a = await snap.prepare();
    await expect(snap.prepare({ parent: a.id })).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_COMMITTED' });
    await snap.commit(a);
    await expect(snap.commit(a)).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_ACTIVE' });
    await expect(snap.parent('0'.repeat(64))).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
    await expect(snap.parent('../../etc')).rejects.toMatchObject({ code: 'SNAPSHOT_INVALID_ID' });
    await expect(snap.remove('../x')).rejects.toMatchObject({ code: 'SNAPSHOT_INVALID_ID' });
  });

  test('remove refuses while children exist, then removes everything of the snapshot', async () => {
    const base = await snap.prepare();
    await snap.commit(base);
    const child = await snap.prepare({ parent: base.id });
    await expect(snap.remove(base.id)).rejects.toMatchObject({ code: 'SNAPSHOT_HAS_CHILDREN' });
    // The failed remove left no marker behind: the parent can still get children.
    const second = await snap.prepare({ parent: base.id });
    await snap.remove(child.id);
    await snap.remove(second.id);
    await snap.remove(base.id);
    expect(await snap.list()).toEqual([]);
    const dir = join(root, 'overlay2');
    expect((await readdir(dir)).sort()).toEqual(['.empty', '.init', 'l']);
    expect(await readdir(join(dir, 'l'))).toEqual([]);
  });

  test('a committed layer on a parent whose chain is known: its chain is derived, no link read again', async () => {
    const base = await snap.prepare();
    await snap.commit(base);
    const child = await snap.prepare({ parent: base.id });
    await snap.commit(child);
    const grandchild = await snap.prepare({ parent: child.id });
    await snap.commit(grandchild);
    expect(await snap.chain(child.id)).toEqual([child.id, base.id]);
    // With the base's link gone, only a chain that reads no link can still be told.
    const dir = join(root, 'overlay2');
    const baseLink = join(dir, 'l', await readFile(join(dir, base.id, 'link'), 'utf8'));
    await rename(baseLink, `${baseLink}.away`);
    try {
      expect(await snap.chain(grandchild.id)).toEqual([grandchild.id, child.id, base.id]);
    } finally {
      await rename(`${baseLink}.away`, baseLink);
    }
    // The same as the files say, read afresh.
    const fresh = new Overlay2Snapshotter({ root });
    try {
      expect(await fresh.chain(grandchild.id)).toEqual([grandchild.id, child.id, base.id]);
    } finally {
      await fresh.close();
    }
  });

  test('a snapshot another snapshotter on the root removed is gone for this one too (what it remembers is checked)', async () => {
    const other = new Overlay2Snapshotter({ root });
    try {
      const base = await snap.prepare();
      await snap.commit(base);
      const child = await snap.prepare({ parent: base.id });
      await snap.commit(child);
      // This snapshotter has read both (stat, chain, list); the other removes them.
      expect(await snap.chain(child.id)).toEqual([child.id, base.id]);
      expect((await snap.list()).map((i) => i.id).sort()).toEqual([base.id, child.id].sort());
      const before = await snap.stat(child.id);
      await other.remove(child.id);
      await expect(snap.stat(child.id)).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
      await expect(snap.chain(child.id)).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
      expect((await snap.list()).map((i) => i.id)).toEqual([base.id]);
      // What stays is still described as the files say.
      expect(await snap.stat(base.id)).toMatchObject({ id: base.id, kind: 'committed', parent: undefined });
      expect(before).toMatchObject({ id: child.id, kind: 'committed', parent: base.id });
      await other.remove(base.id);
      expect(await snap.list()).toEqual([]);
      await expect(snap.parent(base.id)).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
    } finally {
      await other.close();
    }
  });

  test('a step\'s commit, and the usage of its small new layer, make no thread-pool trip (every step\'s critical path)', async () => {
    const base = await snap.prepare();
    await snap.commit(base);
    const step = await snap.prepare({ parent: base.id });
    await mkdir(join(step.upperDir, 'code', 'node_modules'), { recursive: true });
    await writeFile(join(step.upperDir, 'code', 'node_modules', 'index.js'), 'x'.repeat(3000));
    const committed = await countPoolTrips(() => snap.commit(step));
    expect(committed.trips).toEqual([]);
    await expect(readFile(join(root, 'overlay2', step.id, 'owner'), 'utf8')).rejects.toThrow(/ENOENT/);
    expect((await snap.stat(step.id)).kind).toBe('committed');
    const usage = await countPoolTrips(() => snap.usage(step.id));
    expect(usage.trips).toEqual([]);
    expect(usage.result.inodes).toBe(4);
  });

  test('usage counts allocated bytes and inodes of the own diff, hardlinks once', async () => {
    const a = await snap.prepare();
    await mkdir(join(a.upperDir, 'd'));
    await writeFile(join(a.upperDir, 'd', 'big'), Buffer.alloc(100_000, 1));
    await link(join(a.upperDir, 'd', 'big'), join(a.upperDir, 'big-again'));
    await symlink('d/big', join(a.upperDir, 'sym'));
    await snap.commit(a);
    const u = await snap.usage(a.id);
    // diff/, d/, big (once), sym
    expect(u.inodes).toBe(4);
    expect(u.bytes).toBeGreaterThanOrEqual(100_000);
    expect(u.bytes).toBeLessThan(200_000);
  });

  test('parallel prepares on one parent get distinct ids and links', async () => {
    const base = await snap.prepare();
    await snap.commit(base);
    const kids = await Promise.all(Array.from({ length: 40 }, () => snap.prepare({ parent: base.id })));
    expect(new Set(kids.map((k) => k.id)).size).toBe(40);
    const links = await Promise.all(kids.map((k) => readFile(join(root, 'overlay2', k.id, 'link'), 'utf8')));
    expect(new Set(links).size).toBe(40);
    expect((await readdir(join(root, 'overlay2', base.id, 'children'))).length).toBe(40);
  });
});
