/**
 * A layer tar that copies the entries of hard-linked files from an earlier layer's tar (tar-index.ts,
 * the incremental COPY's export) is byte for byte the tar made by reading every file; the entries
 * really come from the earlier blob (a byte changed there shows up); files that are new, copied,
 * moved to another path or in a hardlink pair are read as before; with SOURCE_DATE_EPOCH nothing
 * is copied; a file the layer's walk at commit already saw (diff-walk.ts) is not looked up again.
 * Plain directories, no mounts: the tar walk reads a `diff/` like any directory.
 */
import { afterEach, beforeEach, expect, test, describe } from '@jest/globals';
import { setAttributeSync } from '@napi-rs/xattr';
import { closeSync, openSync } from 'node:fs';
import { link, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerTar, type LayerTarOptions } from '../../../src/worker/diff/layer-tar.js';
import { readLinkedFrom, readTarIndex, TarIndexWriter, writeLinkedFrom, type DiffDirs } from '../../../src/worker/diff/tar-index.js';
import { walkDiff } from '../../../src/worker/snapshot/diff-walk.js';

async function tarOf(dir: string, opts: LayerTarOptions = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of layerTar(dir, opts)) parts.push(c);
  return Buffer.concat(parts);
}

const LONG = `${'d'.repeat(60)}/${'n'.repeat(70)}.txt`;

describe('layer tar splicing', () => {
  let tmp: string;
  let dirs: DiffDirs;
  let prev: string;
  let next: string;
  let blobFile: string;

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'tsbuild-splice-'));
    dirs = { diffDir: (id) => join(tmp, id, 'diff') };
    prev = dirs.diffDir('prev');
    next = dirs.diffDir('next');
    await mkdir(join(prev, 'sub', 'deep'), { recursive: true });
    await mkdir(join(prev, 'd'.repeat(60)), { recursive: true });
    await writeFile(join(prev, 'a.txt'), 'alpha\n');
    await writeFile(join(prev, 'big.bin'), Buffer.alloc(300 * 1024, 7)); // streamed, not one read
    await writeFile(join(prev, 'empty'), '');
    await writeFile(join(prev, 'sub', 'deep', 'f'), 'deep\n');
    await writeFile(join(prev, 'sub', 'moved'), 'moved\n');
    await writeFile(join(prev, LONG), 'long name\n');
    await writeFile(join(prev, 'x.txt'), 'xattr\n');
    setAttributeSync(join(prev, 'x.txt'), 'user.note', Buffer.from('kept'));
    await writeFile(join(prev, 'pair1'), 'pair\n');
    await link(join(prev, 'pair1'), join(prev, 'pair2'));
    for (const p of ['a.txt', 'big.bin', 'sub/deep/f', LONG, 'x.txt']) await utimes(join(prev, p), 1_700_000_000, 1_700_000_000);

    // The earlier layer's blob and index, as the export makes them.
    const index = new TarIndexWriter();
    const blob = await tarOf(prev, { onFileEntry: index.add });
    blobFile = join(tmp, 'prev.tar');
    await writeFile(blobFile, blob);
    await index.write(dirs, 'prev', 'sha256:prev');

    // The next layer: most files linked from the earlier one, one changed, one added, one moved.
    await mkdir(join(next, 'sub', 'deep'), { recursive: true });
    await mkdir(join(next, 'd'.repeat(60)), { recursive: true });
    for (const p of ['big.bin', 'empty', 'sub/deep/f', LONG, 'x.txt', 'pair1']) await link(join(prev, p), join(next, p));
    await writeFile(join(next, 'a.txt'), 'alpha changed\n');
    await writeFile(join(next, 'added'), 'new\n');
    await link(join(prev, 'sub', 'moved'), join(next, 'sub', 'elsewhere'));
    await writeLinkedFrom(dirs, 'next', 'prev');
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  async function withBlob<T>(file: string, fn: (fd: number) => Promise<T>): Promise<T> {
    const fd = openSync(file, 'r');
    try {
      return await fn(fd);
    } finally {
      closeSync(fd);
    }
  }

  test('the spliced tar is the tar that reads every file, and indexes the same entries', async () => {
    expect(await readLinkedFrom(dirs, 'next')).toBe('prev');
    const index = await readTarIndex(dirs, 'prev');
    expect(index?.blobDigest).toBe('sha256:prev');
    expect(index?.byInode.size).toBe(8); // every regular file, the pair once
    const plainIndex: unknown[] = [];
    const plain = await tarOf(next, { onFileEntry: (p, st, o, l) => plainIndex.push([p, st.ino, o, l]) });
    const splicedIndex: unknown[] = [];
    const spliced = await withBlob(blobFile, (fd) =>
      tarOf(next, { reuse: { fd, index: index as NonNullable<typeof index> }, onFileEntry: (p, st, o, l) => splicedIndex.push([p, st.ino, o, l]) }));
    expect(spliced.equals(plain)).toBe(true);
    expect(splicedIndex).toEqual(plainIndex);
  });

  test('linked files come from the earlier blob; new, changed, moved and paired files are read', async () => {
    const index = await readTarIndex(dirs, 'prev');
    if (index === undefined) throw new Error('no index');
    // Mark every byte of the earlier blob: whatever is copied from it shows up as 0xee.
    const marked = Buffer.alloc((await readFile(blobFile)).length, 0xee);
    const markedFile = join(tmp, 'marked.tar');
    await writeFile(markedFile, marked);
    const out = await withBlob(markedFile, (fd) => tarOf(next, { reuse: { fd, index } }));
    const plain = await tarOf(next);
    expect(out.length).toBe(plain.length);
    const copied = (name: string): boolean => {
      const e = [...index.byInode.values()].find((v) => v.path === name);
      if (e === undefined) return false;
      // The entry sits in the new tar somewhere; find it by where the plain tar has its bytes.
      const at = plain.indexOf(Buffer.from(name.length > 100 ? name.slice(-20) : name));
      return at >= 0 && out.subarray(at, at + 8).every((b) => b === 0xee);
    };
    expect(copied('big.bin')).toBe(true);
    expect(copied('x.txt')).toBe(true);
    expect(copied('sub/deep/f')).toBe(true);
    expect(copied(LONG)).toBe(true);
    for (const read of ['a.txt', 'added', 'sub/elsewhere']) expect(out.includes(Buffer.from(read))).toBe(true);
    expect(out.includes(Buffer.from('alpha changed'))).toBe(true);
  });

  test("a file the layer's walk saw is not looked up again: the walk's facts decide the copy, and the tar is the same", async () => {
    const index = await readTarIndex(dirs, 'prev');
    if (index === undefined) throw new Error('no index');
    const walked = (await walkDiff(next, new AbortController().signal)).entries;
    const known = (p: string) => {
      const e = walked.get(p);
      return e?.kind === 'file' ? e.facts : undefined;
    };
    const plain = await tarOf(next);
    expect((await withBlob(blobFile, (fd) => tarOf(next, { reuse: { fd, index }, known }))).equals(plain)).toBe(true);

    // Only a lookup would see this (a committed layer never changes; here it does, to show that
    // the walk's facts were used): x.txt is still copied from the marked earlier blob with them.
    await utimes(join(next, 'x.txt'), 1_800_000_000, 1_800_000_000);
    const markedFile = join(tmp, 'marked.tar');
    await writeFile(markedFile, Buffer.alloc((await readFile(blobFile)).length, 0xee));
    const at = plain.indexOf(Buffer.from('x.txt'));
    const copiedX = (out: Buffer): boolean => out.subarray(at, at + 8).every((b) => b === 0xee);
    expect(copiedX(await withBlob(markedFile, (fd) => tarOf(next, { reuse: { fd, index }, known })))).toBe(true);
    expect(copiedX(await withBlob(markedFile, (fd) => tarOf(next, { reuse: { fd, index } })))).toBe(false);
  });

  test('with SOURCE_DATE_EPOCH nothing is copied from the earlier blob', async () => {
    const index = await readTarIndex(dirs, 'prev');
    if (index === undefined) throw new Error('no index');
    const markedFile = join(tmp, 'marked.tar');
    await writeFile(markedFile, Buffer.alloc((await readFile(blobFile)).length, 0xee));
    const out = await withBlob(markedFile, (fd) => tarOf(next, { reuse: { fd, index }, sourceDateEpoch: 1_600_000_000 }));
    expect(out.equals(await tarOf(next, { sourceDateEpoch: 1_600_000_000 }))).toBe(true);
  });
});
