/**
 * The incremental COPY's reuse hook (src/worker/ops/incremental-copy.ts) and the daemon's context
 * copy: a file linked from the context copy into a layer is the source's own inode, and every later
 * incremental copy that links that layer's file links the same inode again, which changes the
 * source's ctime each time. So the ctime can never vouch for the source's xattrs there; the
 * manifest says instead that the layer's file is the source's inode (`shared`), and a source that
 * is still that inode keeps its recorded xattr digest without listing its xattrs (listing them was
 * ~1.3 s of a one-file edit of the 100,000-file seed, issue 14). A source that is another inode,
 * or one whose layer file was a copy, is listed as before. And the manifests themselves: the next
 * copy takes its previous copy's from the process's ManifestCache instead of parsing it again.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { linkSync, lstatSync, mkdirSync, rmSync, writeFileSync, utimesSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { copy } from '../../../src/worker/fileop/copy.js';
import type { CopiedAttrs } from '../../../src/worker/fileop/types.js';
import { ManifestCache, ManifestWriter, readManifest, reuseFrom, type CopyManifest, type ManifestEntry } from '../../../src/worker/ops/incremental-copy.js';
import { dockerCopy, makeRoots, type Roots } from '../fileop/fixture.js';

let r: Roots;
beforeEach(() => {
  r = makeRoots();
});
afterEach(() => {
  r.cleanup();
});

/** Snapshot-like directories under the test's base: `<base>/<id>/diff`, the manifest beside it. */
const snapshots = { diffDir: (id: string): string => join(r.base, id, 'diff') };
const wantOf = (st: Stats): CopiedAttrs => ({ uid: st.uid, gid: st.gid, bits: st.mode & 0o7777 });

/** A manifest whose one file `a` records `xattrs` for a source with `st`'s facts. */
function manifestFor(st: Stats, e: Partial<ManifestEntry>): CopyManifest {
  const w = wantOf(st);
  const entry: ManifestEntry = {
    fingerprint: 'fp', mtimeMs: st.mtimeMs, attrs: `${w.uid}:${w.gid}:${w.bits.toString(8)}`, xattrs: 'recorded', group: false,
    srcIno: st.ino, srcCtimeMs: -1, shared: false, ...e,
  };
  return { time: null, files: new Map([['a', entry]]) };
}

function hook(manifest: CopyManifest, prevDiff: string) {
  const out = new ManifestWriter(null);
  const counts = { linked: 0, copied: 0 };
  const reuse = reuseFrom({ prevDiff, manifest, destRoot: r.dest, srcRoot: r.src, fingerprints: new Map([['a', 'fp']]), time: null, out, counts, sourceHardlinks: false });
  return { reuse, out, counts };
}

test("a source that is the earlier layer's inode keeps its recorded xattr digest; another inode is listed", () => {
  mkdirSync(r.src, { recursive: true });
  const prev = snapshots.diffDir('prev');
  mkdirSync(prev, { recursive: true });
  writeFileSync(join(r.src, 'a'), 'a\n');
  linkSync(join(r.src, 'a'), join(prev, 'a'));
  const st = lstatSync(join(r.src, 'a'));
  const dst = join(r.dest, 'a');
  // 'recorded' is no digest listing could give: a link proves the xattrs were not listed. The ctime
  // vouches for nothing here (-1), as after a link of the inode into the layer.
  expect(hook(manifestFor(st, { shared: true }), prev).reuse.linkSource(join(r.src, 'a'), st, dst, wantOf(st))).toBe(join(prev, 'a'));
  expect(hook(manifestFor(st, { shared: false }), prev).reuse.linkSource(join(r.src, 'a'), st, dst, wantOf(st))).toBeUndefined();

  // The source replaced by another inode with the same content and mtime: listed, no link.
  rmSync(join(r.src, 'a'));
  writeFileSync(join(r.src, 'a'), 'a\n');
  utimesSync(join(r.src, 'a'), st.atime, st.mtime);
  const st2 = lstatSync(join(r.src, 'a'));
  expect(st2.ino).not.toBe(st.ino);
  expect(hook(manifestFor(st, { shared: true }), prev).reuse.linkSource(join(r.src, 'a'), st2, dst, wantOf(st2))).toBeUndefined();
});

test('the manifest marks files linked from the context copy, and files linked again from their layer, as the source inode', async () => {
  mkdirSync(r.src, { recursive: true });
  writeFileSync(join(r.src, 'a'), 'a\n');
  const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const fingerprints = new Map([['a', 'fp']]);
  /** One direct copy of `a` into snapshot `id`'s diff/, from the earlier snapshot `prev` if given. */
  const copyInto = async (id: string, prev: string | undefined, linkSources: boolean) => {
    const destRoot = snapshots.diffDir(id);
    mkdirSync(destRoot, { recursive: true });
    const out = new ManifestWriter(null);
    const counts = { linked: 0, copied: 0 };
    const manifest = prev !== undefined ? await readManifest(snapshots, prev) : undefined;
    const reuse = reuseFrom({ prevDiff: prev !== undefined ? snapshots.diffDir(prev) : undefined, manifest, destRoot, srcRoot: r.src, fingerprints, time: null, out, counts, sourceHardlinks: !linkSources });
    await copy(dockerCopy('a', '/'), { srcRoot: r.src, destRoot, defaultOwner: me, reuse, linkSources });
    await out.write(snapshots, id);
    return { counts, entry: (await readManifest(snapshots, id))?.files.get('a'), ino: lstatSync(join(destRoot, 'a')).ino };
  };
  const srcIno = lstatSync(join(r.src, 'a')).ino;

  // Copied, not linked from the source (no linkSources, as from the user's own directory): the
  // layer's file is another inode.
  const plain = await copyInto('p1', undefined, false);
  expect(plain.ino).not.toBe(srcIno);
  expect(plain.entry?.shared).toBe(false);
  const plain2 = await copyInto('p2', 'p1', false);
  expect(plain2.counts).toEqual({ linked: 1, copied: 0 });
  expect(plain2.entry?.shared).toBe(false);

  const first = await copyInto('l1', undefined, true);
  expect(first.ino).toBe(srcIno);
  expect(first.entry?.shared).toBe(true);
  const second = await copyInto('l2', 'l1', true);
  expect(second.counts).toEqual({ linked: 1, copied: 0 });
  expect(second.ino).toBe(srcIno);
  expect(second.entry?.shared).toBe(true);
  const third = await copyInto('l3', 'l2', true);
  expect(third.counts).toEqual({ linked: 1, copied: 0 });
  expect(third.entry?.shared).toBe(true);
});

test('a manifest written or read once is taken from the cache after that, without the file; the cache keeps at most maxFiles files', async () => {
  const cache = new ManifestCache(3);
  const entry = (n: number): ManifestEntry => ({ fingerprint: `fp${n}`, mtimeMs: n, attrs: '0:0:644', xattrs: '', group: false, srcIno: n, srcCtimeMs: -1, shared: n % 2 === 0 });
  const write = async (id: string, files: number): Promise<void> => {
    mkdirSync(snapshots.diffDir(id), { recursive: true });
    const w = new ManifestWriter(null);
    for (let i = 0; i < files; i++) w.add(`f${i}`, entry(i));
    await w.write(snapshots, id, cache);
  };
  const manifestFile = (id: string): string => join(r.base, id, 'copy-sources.json');
  await write('a', 2);
  rmSync(manifestFile('a'));
  expect((await readManifest(snapshots, 'a', cache))?.files.get('f1')).toEqual(entry(1));
  expect(await readManifest(snapshots, 'a')).toBeUndefined();

  // b (2 files) pushes a out (2 + 2 > 3); what is read from a file is kept as well.
  await write('b', 2);
  expect(await readManifest(snapshots, 'a', cache)).toBeUndefined();
  const fromFile = await readManifest(snapshots, 'b');
  expect(fromFile?.files).toEqual((await readManifest(snapshots, 'b', cache))?.files);
  await write('c', 1);
  rmSync(manifestFile('b'));
  rmSync(manifestFile('c'));
  expect((await readManifest(snapshots, 'b', cache))?.files.size).toBe(2);
  expect((await readManifest(snapshots, 'c', cache))?.files.get('f0')).toEqual(entry(0));
  // More files than the cache holds: not kept.
  await write('d', 4);
  rmSync(manifestFile('d'));
  expect(await readManifest(snapshots, 'd', cache)).toBeUndefined();
});
