/**
 * COPY with small files copied in native batches (src/worker/fileop/file-batch.ts) writes exactly
 * what the JavaScript path writes — content, owner, bits, xattrs, times to the nanosecond,
 * hardlinks, symlinks — with and without --chown, --chmod and a timestamp; every small file goes
 * through a batch, a few hundred files in a few batches; a file that fails fails the COPY with its
 * own path and error.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { chmodSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { getAttributeSync, listAttributesSync, setAttributeSync } from '@napi-rs/xattr';
import { MNT_DETACH, nativeSys, nativeSysProblem } from '../../../src/util/native-sys.js';
import { copy } from '../../../src/worker/fileop/copy.js';
import { FileBatch, RUNNING_MAX } from '../../../src/worker/fileop/file-batch.js';
import { parseChownSpec } from '../../../src/worker/fileop/owner.js';
import type { CopyAction, CopyFiles } from '../../../src/worker/fileop/types.js';
import { describeIf, isRoot } from '../../helpers/skip.js';
import { waitFor } from '../../helpers/wait-for.js';
import { makeRoots, writeTree, type Roots } from './fixture.js';

const problem = nativeSysProblem();

/** Everything a copy gives an entry, for comparing two copies. */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const inodes = new Map<bigint, string>();
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(p, { bigint: true });
      const xattrs = listAttributesSync(p).sort().map((n) => `${n}=${getAttributeSync(p, n)?.toString('hex') ?? ''}`);
      const body = st.isSymbolicLink() ? `-> ${readlinkSync(p)}` : st.isFile() ? readFileSync(p).toString('hex') : '';
      const first = st.nlink > 1n ? (inodes.get(st.ino) ?? (inodes.set(st.ino, r), r)) : r;
      out.push(`${r} ${(st.mode & 0o177777n).toString(8)} ${st.uid}:${st.gid} m${st.mtimeNs} n${st.nlink} link:${first} ${xattrs.join(',')} ${body}`);
      if (st.isDirectory()) walk(p, r);
    }
  };
  walk(root, '');
  return out;
}

const base: CopyAction = { src: '/', dest: '/app/', dirCopyContents: true, createDestPath: true, allowWildcard: true, followSymlink: true, mode: -1, timestamp: -1 };

describeIf(problem === undefined && isRoot, problem ?? 'needs root (chown, mount)', 'copy: small files in native batches', () => {
  let r: Roots;
  let copyFiles: CopyFiles;
  beforeEach(() => {
    r = makeRoots();
    const f = nativeSys()?.copyFiles;
    if (f === undefined) throw new Error('the native module has no copyFiles: rebuild it (npm run build)');
    copyFiles = f;
  });
  afterEach(() => r.cleanup());

  function tree(): number {
    const spec: Record<string, string> = {};
    for (let i = 0; i < 300; i++) spec[`d${i % 3}/f${i}`] = 'x'.repeat(i * 13);
    writeTree(r.src, { ...spec, 'd0/ln': { link: 'f0' }, 'big.bin': 'b'.repeat(200 * 1024) });
    chmodSync(join(r.src, 'd0/f3'), 0o4755);
    chmodSync(join(r.src, 'd1/f4'), 0o600);
    setAttributeSync(join(r.src, 'd2/f5'), 'user.origin', 'ctx');
    linkSync(join(r.src, 'd1/f1'), join(r.src, 'd2/hard'));
    const t = 1_234_567_890.123456;
    utimesSync(join(r.src, 'd0/f6'), t, t);
    utimesSync(join(r.src, 'd1'), t, t);
    return 300; // small regular files (the hardlink's second name is linked, not copied)
  }

  const variants: readonly [string, Partial<CopyAction>][] = [
    ['plain', {}],
    ['--chown', { owner: parseChownSpec('1234:2345') }],
    ['--chmod and a timestamp', { modeStr: 'u=rwX,go=rX', timestamp: 1_000_000_000 }],
  ];
  for (const [name, extra] of variants) {
    test(`writes what the JavaScript path writes (${name})`, async () => {
      const small = tree();
      let calls = 0;
      let files = 0;
      const counting: CopyFiles = (paths, meta) => {
        calls++;
        files += meta.length / 7;
        return copyFiles(paths, meta);
      };
      const ctx = { srcRoot: r.src, destRoot: r.dest };
      const a = await copy({ ...base, ...extra, dest: '/native/' }, { ...ctx, copyFiles: counting });
      const b = await copy({ ...base, ...extra, dest: '/js/' }, { ...ctx, copyFiles: null });
      expect(files).toBe(small);
      expect(calls).toBeGreaterThanOrEqual(Math.ceil(small / 64));
      // A batch starts when full, or at the end of its turn once a thread is free: 5 or 6 calls here,
      // quiet or at load 6 (before batches waited for a thread: up to 62 under CI's load).
      expect(calls).toBeLessThanOrEqual(small / 20);
      expect(a).toEqual(b);
      expect(snapshot(join(r.dest, 'native'))).toEqual(snapshot(join(r.dest, 'js')));
      expect(lstatSync(join(r.dest, 'native/d2/hard')).ino).toBe(lstatSync(join(r.dest, 'native/d1/f1')).ino);
    });
  }

  test("a wildcard's matches into one directory share batches; matches of one name are copied in order", async () => {
    writeTree(r.src, { ...Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`f${i}`, `${i}`])), 'a/x': '1', 'b/x': '2', 'c/x': '3' });
    let calls = 0;
    const counting: CopyFiles = (paths, meta) => {
      calls++;
      return copyFiles(paths, meta);
    };
    const ctx = { srcRoot: r.src, destRoot: r.dest, copyFiles: counting };
    await copy({ ...base, src: 'f*', dest: '/files/' }, ctx);
    expect(readdirSync(join(r.dest, 'files'))).toHaveLength(200);
    expect(readFileSync(join(r.dest, 'files/f199'), 'utf8')).toBe('199');
    expect(calls).toBeLessThanOrEqual(8);
    await copy({ ...base, src: '*/x', dest: '/d/' }, ctx);
    expect(readFileSync(join(r.dest, 'd/x'), 'utf8')).toBe('3');
  });

  test('the walk waits while a batch per core (up to 4) is under way, so a big tree is not all queued at once', async () => {
    writeTree(r.src, Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`d/f${i}`, 'z'])));
    let running = 0;
    let most = 0;
    let files = 0;
    const slow: CopyFiles = async (paths, meta) => {
      running++;
      most = Math.max(most, running);
      files += meta.length / 7;
      await new Promise((resolve) => setTimeout(resolve, 5));
      const out = await copyFiles(paths, meta);
      running--;
      return out;
    };
    await copy(base, { srcRoot: r.src, destRoot: r.dest, copyFiles: slow });
    expect(files).toBe(1000);
    expect(most).toBe(RUNNING_MAX);
    expect(RUNNING_MAX).toBe(Math.min(4, availableParallelism()));
  });

  test('a batch queued while every thread is busy takes files until one is free: files added over many turns go in one call', async () => {
    const names = Array.from({ length: RUNNING_MAX * 64 + 10 }, (_, i) => `f${i}`);
    writeTree(r.src, Object.fromEntries(names.map((n) => [n, n])));
    const gates: (() => void)[] = [];
    const sizes: number[] = [];
    const gated: CopyFiles = async (paths, meta) => {
      sizes.push(meta.length / 7);
      await new Promise<void>((resolve) => gates.push(resolve));
      return copyFiles(paths, meta);
    };
    const batch = new FileBatch(gated);
    const add = (n: string): Promise<void> => batch.add({ src: join(r.src, n), dst: join(r.dest, n), uid: 0, gid: 0, bits: 0o644, chown: false, atime: 1, mtime: 2, size: n.length });
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const done = names.slice(0, RUNNING_MAX * 64).map(add);
    await turn();
    expect(sizes).toEqual(Array.from({ length: RUNNING_MAX }, () => 64));
    // Every thread is busy: one file per turn joins the waiting batch, and the walk may go on.
    for (const n of names.slice(RUNNING_MAX * 64)) {
      done.push(add(n));
      expect(batch.room()).toBeUndefined();
      await turn();
    }
    expect(sizes).toHaveLength(RUNNING_MAX);
    gates.shift()?.();
    await waitFor(() => sizes.length === RUNNING_MAX + 1, { what: 'the waiting batch to start' });
    expect(sizes.at(-1)).toBe(10);
    await waitFor(() => gates.length === RUNNING_MAX, { what: 'every batch to be under way' });
    for (const g of gates.splice(0)) g();
    await Promise.all(done);
    expect(sizes).toHaveLength(RUNNING_MAX + 1);
    expect(readdirSync(r.dest).sort()).toEqual([...names].sort());
    expect(lstatSync(join(r.dest, 'f7')).mtimeMs).toBe(2000);
  });

  test('a full batch waiting for a thread stops the walk (room) until one is free', async () => {
    const names = Array.from({ length: (RUNNING_MAX + 1) * 64 }, (_, i) => `f${i}`);
    writeTree(r.src, Object.fromEntries(names.map((n) => [n, n])));
    const gates: (() => void)[] = [];
    const gated: CopyFiles = async (paths, meta) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      return copyFiles(paths, meta);
    };
    const batch = new FileBatch(gated);
    const done = names.map((n) => batch.add({ src: join(r.src, n), dst: join(r.dest, n), uid: 0, gid: 0, bits: 0o644, chown: false, atime: 1, mtime: 2, size: n.length }));
    let free = false;
    const room = batch.room();
    expect(room).toBeInstanceOf(Promise);
    void room?.then(() => (free = true));
    await waitFor(() => gates.length === RUNNING_MAX, { what: 'the full batches to be under way' });
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(free).toBe(false);
    gates.shift()?.();
    await room;
    expect(batch.room()).toBeUndefined();
    await waitFor(() => gates.length === RUNNING_MAX, { what: 'the waiting batch to start' });
    for (const g of gates.splice(0)) g();
    await Promise.all(done);
    expect(readdirSync(r.dest)).toHaveLength(names.length);
  });

  test('a file that cannot be written fails the COPY with its path and error', async () => {
    writeTree(r.src, Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, 'y'.repeat(4096)])));
    const small = join(r.base, 'small');
    mkdirSync(small);
    await nativeSys()?.mount(null, 'tmpfs', small, 'tmpfs', 0, 'size=64k');
    try {
      const err = await copy(base, { srcRoot: r.src, destRoot: small }).then(() => undefined, (e: unknown) => e);
      // (Under Jest the cause is an Error of another realm, so its message is quoted as "Error: …".)
      const message = /^copy .*\/f\d+ to \/app\/f\d+: (Error: )?ENOSPC: no space left on device, \w+ '.*\/app\/f\d+'$/;
      expect(err).toMatchObject({ code: 'FILEOP_IO', message: expect.stringMatching(message) });
      expect((err as { cause?: unknown }).cause).toMatchObject({ code: 'ENOSPC' });
    } finally {
      await nativeSys()?.umount(small, MNT_DETACH);
    }
  });
});

test('without the native module the copy takes the JavaScript path', async () => {
  const r = makeRoots();
  try {
    writeTree(r.src, { a: 'a', 'd/b': 'b' });
    writeFileSync(join(r.src, 'd/c'), 'c');
    await copy(base, { srcRoot: r.src, destRoot: r.dest, copyFiles: null });
    expect(readFileSync(join(r.dest, 'app/d/c'), 'utf8')).toBe('c');
  } finally {
    r.cleanup();
  }
});
