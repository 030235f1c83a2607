import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { applyModeSpec, parseModeSpec, type ModeSpec } from '../../../src/worker/fileop/chmod.js';
import { parseChownSpec } from '../../../src/worker/fileop/owner.js';
import { resolveInRoot } from '../../../src/worker/fileop/root-path.js';
import { timestampSeconds } from '../../../src/worker/fileop/timestamp.js';
import { isTarHeader } from '../../../src/worker/fileop/archive-detect.js';
import { detectCompression } from '../../../src/util/compression.js';
import { makeRoots, writeTree, type Roots } from './fixture.js';

const spec = (s: string): ModeSpec => {
  const m = parseModeSpec(s);
  if (!m) throw new Error(`unparsed ${s}`);
  return m;
};
const FILE = 0o100000;
const DIR = 0o040000;

describe('chmod values', () => {
  // [spec, original mode, is dir, expected bits] — expectations as GNU/busybox chmod computes them.
  const table: readonly [string, number, boolean, number][] = [
    ['0755', 0o600, false, 0o755],
    ['644', 0o777, true, 0o644],
    ['4755', 0o600, false, 0o4755],
    ['go-w', 0o666, false, 0o644],
    ['o-rwx,g+x', 0o644, false, 0o650],
    ['u=rwx,g=,o=', 0o644, false, 0o700],
    ['u+rw,g+r,o-x,o+w', 0o000, false, 0o642],
    ['a+X', 0o500, true, 0o511],
    ['a+X', 0o644, false, 0o644],
    ['a+X', 0o744, false, 0o755],
    ['g+rw,o+rw', 0o500, true, 0o566],
    ['u=rwX,go=rX', 0o500, true, 0o755],
    ['u=rwX,go=rX', 0o600, false, 0o644],
    ['+x', 0o644, false, 0o755],
    ['a-w', 0o666, false, 0o444],
    ['go=u-w', 0o750, false, 0o755],
    ['u+s,g+s', 0o755, false, 0o6755],
    ['+t', 0o755, true, 0o1755],
    ['o+t', 0o755, true, 0o755],
    ['=r', 0o4777, false, 0o444],
  ];
  for (const [s, mode, isDir, want] of table) {
    test(`${s} on ${isDir ? 'dir' : 'file'} ${mode.toString(8)} → ${want.toString(8)}`, () => {
      expect(applyModeSpec(spec(s), mode | (isDir ? DIR : FILE), isDir).toString(8)).toBe(want.toString(8));
    });
  }

  test('malformed values are rejected', () => {
    for (const bad of ['', 'u', 'u=rwq', '0788', '17777', 'z+x', 'u+x,', '9']) expect(parseModeSpec(bad)).toBeUndefined();
  });
});

describe('--chown values', () => {
  test('ids and names', () => {
    expect(parseChownSpec('1000')).toEqual({ user: { byId: 1000 } });
    expect(parseChownSpec('1000:50')).toEqual({ user: { byId: 1000 }, group: { byId: 50 } });
    expect(parseChownSpec('app:staff')).toEqual({ user: { byName: { name: 'app' } }, group: { byName: { name: 'staff' } } });
    expect(parseChownSpec(':staff')).toEqual({ group: { byName: { name: 'staff' } } });
  });

  test('malformed values are user errors', () => {
    for (const bad of ['', 'a:b:c', 'app:']) expect(() => parseChownSpec(bad)).toThrow(expect.objectContaining({ code: 'FILEOP_BAD_CHOWN' }));
  });
});

describe('timestamps', () => {
  test('seconds, nanoseconds, "keep"', () => {
    expect(timestampSeconds({ timestamp: 1_700_000_000 })).toBe(1_700_000_000);
    expect(timestampSeconds({ timestamp: 1_700_000_000_000_000_000 })).toBe(1_700_000_000);
    expect(timestampSeconds({ timestamp: -1 })).toBeUndefined();
    expect(timestampSeconds({})).toBeUndefined();
    expect(timestampSeconds({ timestamp: 0 })).toBe(0);
    // A decoded message has its default on the prototype: not an override.
    expect(timestampSeconds(Object.create({ timestamp: 0 }) as { timestamp?: number })).toBeUndefined();
  });
});

describe('archive detection helpers', () => {
  test('compression magic bytes', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(detectCompression(Buffer.from('BZh91AY'))).toBe('bzip2');
    expect(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))).toBe('xz');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(Buffer.from('hello'))).toBe('none');
  });

  test('a zero block or garbage is not a tar header', () => {
    expect(isTarHeader(Buffer.alloc(512))).toBe(false);
    expect(isTarHeader(Buffer.alloc(512, 0x41))).toBe(false);
    expect(isTarHeader(Buffer.alloc(100))).toBe(false);
  });
});

describe('resolveInRoot', () => {
  let r: Roots;
  beforeEach(() => {
    r = makeRoots();
    writeTree(r.dest, {
      'a/b': { dir: true },
      abs: { link: '/a' },
      rel: { link: 'a/b' },
      up: { link: '../../..' },
      loop1: { link: 'loop2' },
      loop2: { link: 'loop1' },
      chain: { link: 'abs/b/../b' },
    });
  });
  afterEach(() => r.cleanup());

  const inRoot = async (p: string, followFinal = true) => (await resolveInRoot(r.dest, p, { followFinal })).inRoot;

  test('absolute and relative links, .. clamped at the root', async () => {
    expect(await inRoot('/abs/b')).toBe('/a/b');
    expect(await inRoot('rel')).toBe('/a/b');
    expect(await inRoot('/up/up/a')).toBe('/a');
    expect(await inRoot('/../../a/./b/..')).toBe('/a');
    expect(await inRoot('/chain')).toBe('/a/b');
    expect(await inRoot('/missing/x/../y')).toBe('/missing/y');
  });

  test('the final component is kept when not following', async () => {
    expect(await inRoot('/abs', false)).toBe('/abs');
    expect((await resolveInRoot(r.dest, '/abs', { followFinal: false })).host).toBe(`${r.dest}/abs`);
  });

  test('a symlink loop is a clear error', async () => {
    await expect(inRoot('/loop1/x')).rejects.toMatchObject({ code: 'FILEOP_SYMLINK_LOOP' });
  });
});
