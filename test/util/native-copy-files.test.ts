/**
 * The native batch copy (copyFiles in native/tsbuild_sys.c, used by src/worker/fileop/file-batch.ts)
 * against the real kernel: content, owner, permission bits after a chown, extended attributes
 * (overlay's own left behind), times to the nanosecond exactly as Node's lutimes sets them, and one
 * error per failed file at its index without stopping the others or touching what was there.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { chmodSync, existsSync, lstatSync, lutimesSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAttributeSync, listAttributesSync, setAttributeSync } from '@napi-rs/xattr';
import { nativeSys, nativeSysProblem } from '../../src/util/native-sys.js';
import type { CopyFiles } from '../../src/worker/fileop/types.js';
import { describeIf, isRoot, testIf } from '../helpers/skip.js';

const problem = nativeSysProblem();

/** One file for copyFiles: its paths and the 7 numbers (uid, gid, bits, flags, atime, mtime, size). */
interface Job {
  readonly src: string;
  readonly dst: string;
  readonly meta: readonly [number, number, number, number, number, number, number];
}

describeIf(problem === undefined && isRoot, problem ?? 'needs root (chown, trusted.* xattrs)', 'tsbuild_sys copyFiles', () => {
  let dir: string;
  let copyFiles: CopyFiles;
  const run = (jobs: readonly Job[]) =>
    copyFiles(jobs.map((j) => `${j.src}\0${j.dst}\0`).join(''), Float64Array.from(jobs.flatMap((j) => j.meta)));

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-copyfiles-'));
    const f = nativeSys()?.copyFiles;
    if (f === undefined) throw new Error('the native module has no copyFiles: rebuild it (npm run build)');
    copyFiles = f;
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'dst'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const s = (p: string) => join(dir, 'src', p);
  const d = (p: string) => join(dir, 'dst', p);

  test('copies content, owner, bits (setuid kept after the chown), xattrs and times', async () => {
    writeFileSync(s('a'), 'hello');
    writeFileSync(s('empty'), '');
    setAttributeSync(s('a'), 'user.origin', 'ctx');
    setAttributeSync(s('a'), 'trusted.overlay.opaque', 'y');
    const atime = 1_600_000_000.123456789;
    const mtime = 1_500_000_000.987654321;
    const r = await run([
      { src: s('a'), dst: d('a'), meta: [1234, 2345, 0o4755, 1, atime, mtime, 5] },
      { src: s('empty'), dst: d('empty'), meta: [0, 0, 0o600, 0, 1, 2, 0] },
    ]);
    expect(r).toBeNull();
    const st = lstatSync(d('a'), { bigint: true }); // before the read below moves atime (relatime)
    expect(readFileSync(d('a'), 'utf8')).toBe('hello');
    expect([st.uid, st.gid, st.mode & 0o7777n]).toEqual([1234n, 2345n, 0o4755n]);
    expect(getAttributeSync(d('a'), 'user.origin')?.toString()).toBe('ctx');
    expect(listAttributesSync(d('a'))).not.toContain('trusted.overlay.opaque');
    // The same times as Node's lutimes gives a file for the same seconds (libuv keeps microseconds).
    writeFileSync(d('ref'), '');
    lutimesSync(d('ref'), atime, mtime);
    const ref = lstatSync(d('ref'), { bigint: true });
    expect([st.atimeNs, st.mtimeNs]).toEqual([ref.atimeNs, ref.mtimeNs]);
    const e = lstatSync(d('empty'));
    expect([e.size, e.uid, e.mode & 0o7777, e.mtimeMs]).toEqual([0, 0, 0o600, 2000]);
  });

  test('reports each failure at its index and copies the rest; never follows a source symlink or replaces a file', async () => {
    writeFileSync(s('ok'), 'ok');
    writeFileSync(s('x'), 'new');
    writeFileSync(d('x'), 'old');
    symlinkSync(s('ok'), s('link'));
    chmodSync(s('ok'), 0o640);
    const meta = [0, 0, 0o644, 0, 1, 1, 2] as const;
    const r = await run([
      { src: s('x'), dst: d('x'), meta },
      { src: s('missing'), dst: d('missing'), meta },
      { src: s('link'), dst: d('link'), meta },
      { src: s('ok'), dst: d('ok'), meta },
    ]);
    expect(r).toHaveLength(4);
    expect(r?.[0]).toMatchObject({ code: 'EEXIST', errno: -17, syscall: 'open', path: d('x') });
    expect(r?.[1]).toMatchObject({ code: 'ENOENT', syscall: 'open', path: s('missing') });
    expect(r?.[2]).toMatchObject({ code: 'ELOOP', syscall: 'open', path: s('link') });
    expect(r?.[3]).toBeUndefined();
    expect(readFileSync(d('x'), 'utf8')).toBe('old');
    expect(() => lstatSync(d('missing'))).toThrow();
    expect(() => lstatSync(d('link'))).toThrow();
    expect(readFileSync(d('ok'), 'utf8')).toBe('ok');
    expect(lstatSync(d('ok')).mode & 0o7777).toBe(0o644);
  });

  // tmpfs takes user xattrs bigger than ext4's one block: a list and a value beyond the 8 KiB buffers.
  testIf(existsSync('/dev/shm'), 'no /dev/shm (tmpfs)', 'xattr names and values longer than its buffers are copied whole', async () => {
    const shm = mkdtempSync('/dev/shm/tsbuild-copyfiles-');
    try {
      writeFileSync(join(shm, 'src'), 'x');
      const big = Buffer.alloc(20_000, 7);
      setAttributeSync(join(shm, 'src'), 'user.big', big);
      for (let i = 0; i < 300; i++) setAttributeSync(join(shm, 'src'), `user.a-fairly-long-attribute-name-${i}`, Buffer.from(String(i)));
      expect(await run([{ src: join(shm, 'src'), dst: join(shm, 'dst'), meta: [0, 0, 0o644, 0, 1, 1, 1] }])).toBeNull();
      expect(getAttributeSync(join(shm, 'dst'), 'user.big')).toEqual(big);
      expect(listAttributesSync(join(shm, 'dst'))).toHaveLength(301);
      expect(getAttributeSync(join(shm, 'dst'), 'user.a-fairly-long-attribute-name-299')?.toString()).toBe('299');
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
  });

  test('bad arguments throw, not crash', () => {
    const f = copyFiles as unknown as (...a: unknown[]) => unknown;
    expect(() => f('a\0b\0', new Float64Array(6))).toThrow(/bad arguments/);
    expect(() => f('a\0b\0', [0, 0, 0, 0, 0, 0, 0])).toThrow(/bad arguments/);
    expect(() => f('a\0\0', new Float64Array(7))).toThrow(/bad arguments/);
    expect(() => f('a\0b', new Float64Array(7))).toThrow(/bad arguments/);
    expect(() => f('a\0b\0c\0d\0', new Float64Array(7))).toThrow(/bad arguments/);
  });
});
