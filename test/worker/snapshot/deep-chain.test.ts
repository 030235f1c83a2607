/**
 * Deep chains: 300 layers mount directly; 600 layers (over the kernel's 500 lowers) mount on a
 * flattened ancestor. Each layer adds one file and rewrites a shared one; some delete a file
 * (whiteout) or replace a directory (opaque), so the flattened copy must have applied them.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { setAttributeSync } from '@napi-rs/xattr';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Overlay2Snapshotter } from '../../../src/worker/snapshot/overlay2-snapshotter.js';
import { describeIf } from '../../helpers/skip.js';
import { canMount, makeTempDir, mountsUnder, removeTempDir, whyNoMount } from './fixtures.js';

/** Builds `depth` layers; layer i adds f<i>, sets counter=i, deletes f<i-1> every 50th layer. */
async function buildChain(snap: Overlay2Snapshotter, depth: number, from?: { id: string; start: number }): Promise<string[]> {
  const ids: string[] = [];
  let parent = from?.id;
  for (let i = from?.start ?? 0; i < depth; i++) {
    const a = await snap.prepare(parent === undefined ? {} : { parent });
    await writeFile(join(a.upperDir, `f${i}`), `layer ${i}`);
    await writeFile(join(a.upperDir, 'counter'), String(i));
    if (i % 50 === 49) execFileSync('mknod', [join(a.upperDir, `f${i - 1}`), 'c', '0', '0']);
    if (i % 100 === 10) {
      // Replace dir/ wholesale: opaque dir with a single marker file naming this layer.
      await mkdir(join(a.upperDir, 'dir'));
      setAttributeSync(join(a.upperDir, 'dir'), 'trusted.overlay.opaque', 'y');
      await writeFile(join(a.upperDir, 'dir', `only-${i}`), '');
    } else if (i % 10 === 0) {
      await mkdir(join(a.upperDir, 'dir'), { recursive: true });
      await writeFile(join(a.upperDir, 'dir', `more-${i}`), '');
    }
    parent = await snap.commit(a);
    ids.push(parent);
  }
  return ids;
}

async function expectMergedView(root: string, depth: number): Promise<void> {
  expect(await readFile(join(root, 'counter'), 'utf8')).toBe(String(depth - 1));
  const names = new Set(await readdir(root));
  for (let i = 0; i < depth; i++) {
    const deleted = i % 50 === 48 && i + 1 < depth;
    expect([i, names.has(`f${i}`)]).toEqual([i, !deleted]);
  }
  expect(await readFile(join(root, `f${depth - 1}`), 'utf8')).toBe(`layer ${depth - 1}`);
  // dir/: the last opaque layer's marker plus the additions after it.
  const lastOpaque = Math.floor((depth - 1 - 10) / 100) * 100 + 10;
  const expected = [`only-${lastOpaque}`];
  for (let i = lastOpaque + 10; i < depth; i += 10) if (i % 100 !== 10) expected.push(`more-${i}`);
  expect((await readdir(join(root, 'dir'))).sort()).toEqual(expected.sort());
}

describeIf(canMount, whyNoMount, 'deep chains', () => {
  let root: string;
  let snap: Overlay2Snapshotter;
  let ids: string[];

  beforeAll(async () => {
    root = await makeTempDir();
    snap = new Overlay2Snapshotter({ root });
    ids = await buildChain(snap, 300);
  }, 120_000);
  afterAll(async () => {
    await snap.close();
    await removeTempDir(root);
  });

  test('a 300-layer chain mounts in one overlay with every layer a lower', async () => {
    const top = ids[299] as string;
    expect((await snap.chain(top)).length).toBe(300);
    await snap.withView(top, (v) => expectMergedView(v, 300));
    // No flattening was needed.
    for (const id of ids) await expect(lstat(join(root, 'overlay2', id, 'flat'))).rejects.toThrow(/ENOENT/);
    const child = await snap.prepare({ parent: top });
    await snap.withMount(child, async (m) => {
      await expectMergedView(m, 300);
      await writeFile(join(m, 'counter'), 'rw');
    });
    expect(await readFile(join(child.upperDir, 'counter'), 'utf8')).toBe('rw');
    expect(await mountsUnder(root)).toEqual([]);
  });

  test('a 600-layer chain mounts on a flattened ancestor that keeps whiteouts and opaque dirs', async () => {
    ids.push(...await buildChain(snap, 600, { id: ids[299] as string, start: 300 }));
    const top = ids[599] as string;
    await snap.withView(top, (v) => expectMergedView(v, 600));
    // 600 % 250 = 100: the ancestor 100 below the top (depth 500) was flattened, once.
    const flattened = ids[499] as string;
    expect((await lstat(join(root, 'overlay2', flattened, 'flat'))).isDirectory()).toBe(true);
    expect(await readFile(join(root, 'overlay2', flattened, 'flat', 'counter'), 'utf8')).toBe('499');
    // Whiteout devices are applied, not copied.
    await expect(lstat(join(root, 'overlay2', flattened, 'flat', 'f448'))).rejects.toThrow(/ENOENT/);

    // An active snapshot on top (RUN step on a 600-layer image) works and reuses the flat copy.
    const child = await snap.prepare({ parent: top });
    await snap.withMount(child, async (m) => {
      await expectMergedView(m, 600);
      await writeFile(join(m, 'new'), 'n');
    });
    const flats = [];
    for (const id of ids) if (await lstat(join(root, 'overlay2', id, 'flat')).then(() => true, () => false)) flats.push(id);
    expect(flats).toEqual([flattened]);
    expect(await mountsUnder(root)).toEqual([]);
  }, 120_000);

  test('with a small limit, flattening nests (a flattened ancestor built on another)', async () => {
    const small = new Overlay2Snapshotter({ root, maxLowerDirs: 8 });
    try {
      const top = ids[120] as string;
      await small.withView(top, (v) => expectMergedView(v, 121));
      // 121 % 4 = 1 → ids[119] flattened, built on a view that itself needs ids[115]'s flat, …
      expect(await lstat(join(root, 'overlay2', ids[119] as string, 'flat')).then(() => true)).toBe(true);
      expect(await lstat(join(root, 'overlay2', ids[115] as string, 'flat')).then(() => true)).toBe(true);
    } finally {
      await small.close();
    }
    expect(await mountsUnder(root)).toEqual([]);
  }, 120_000);
});
