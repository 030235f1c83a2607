/**
 * The native module (native/tsbuild_sys.c through src/util/native-sys.ts) against the real kernel:
 * an overlay mount whose lower paths are relative to a directory other than the process's working
 * directory (as the snapshotter mounts 499 lowers), umount2's errors, nanosecond times set on a
 * symlink itself, and mknod with the exact mode. Built by `npm run build`; strict CI requires it.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeSys, nativeSysProblem, splitNs, type NativeSys } from '../../src/util/native-sys.js';
import { describeIf, isRoot } from '../helpers/skip.js';

const problem = nativeSysProblem();

describeIf(problem === undefined && isRoot, problem ?? 'needs root (mount)', 'tsbuild_sys native module', () => {
  let dir: string;
  let sys: NativeSys;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-native-'));
    sys = nativeSys()!;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('mounts overlay with lower paths relative to the given directory, not the process cwd', async () => {
    for (const d of ['l/a', 'l/b', 'upper', 'work', 'merged']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'l/a/one'), 'a');
    writeFileSync(join(dir, 'l/b/one'), 'b');
    writeFileSync(join(dir, 'l/b/two'), 'b2');
    const cwd = process.cwd();
    await sys.mount(dir, 'overlay', join(dir, 'merged'), 'overlay', 0, 'lowerdir=l/a:l/b,upperdir=upper,workdir=work');
    try {
      expect(process.cwd()).toBe(cwd);
      expect(readFileSync(join(dir, 'merged/one'), 'utf8')).toBe('a');
      expect(readFileSync(join(dir, 'merged/two'), 'utf8')).toBe('b2');
      // Relative to the process's cwd the same option string names nothing.
      await expect(sys.mount(null, 'overlay', join(dir, 'merged'), 'overlay', 0, 'lowerdir=l/a:l/b,upperdir=upper,workdir=work'))
        .rejects.toMatchObject({ code: 'ENOENT', syscall: 'mount' });
    } finally {
      await sys.umount(join(dir, 'merged'), 0);
    }
    expect(() => readFileSync(join(dir, 'merged/one'))).toThrow();
    await expect(sys.umount(join(dir, 'merged'), 0)).rejects.toMatchObject({ code: 'EINVAL', errno: -22, syscall: 'umount2' });
  });

  test('lutimes sets a symlink’s own times to the nanosecond and leaves its target alone', () => {
    writeFileSync(join(dir, 'target'), 'x');
    symlinkSync('target', join(dir, 'link'));
    const before = lstatSync(join(dir, 'target'), { bigint: true });
    const at = 1_700_000_000_123_456_789n;
    const mt = 1_600_000_000_987_654_321n;
    sys.lutimes(join(dir, 'link'), ...splitNs(at), ...splitNs(mt));
    const l = lstatSync(join(dir, 'link'), { bigint: true });
    expect([l.atimeNs, l.mtimeNs]).toEqual([at, mt]);
    expect(lstatSync(join(dir, 'target'), { bigint: true }).mtimeNs).toBe(before.mtimeNs);
    expect(() => sys.lutimes(join(dir, 'missing'), 0, 0, 0, 0)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  test('splitNs keeps times before 1970 exact', () => {
    expect(splitNs(-1n)).toEqual([-1, 999_999_999]);
    expect(splitNs(1_000_000_001n)).toEqual([1, 1]);
  });

  test('mknod makes a 0/0 character device (an overlay whiteout) and reports EEXIST', () => {
    const p = join(dir, 'wh');
    sys.mknod(p, 0o020000, 0, 0);
    const st = lstatSync(p);
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.rdev).toBe(0);
    expect(() => sys.mknod(p, 0o020000, 0, 0)).toThrow(expect.objectContaining({ code: 'EEXIST', syscall: 'mknod' }));
  });

  test('bad arguments throw, not crash', () => {
    expect(() => (sys.lutimes as unknown as (...a: unknown[]) => void)(1, 2)).toThrow(/bad arguments/);
    expect(() => sys.mknod('a\0b', 0o010000, 0, 0)).toThrow(/bad arguments/);
  });
});
