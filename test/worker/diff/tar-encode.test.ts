/**
 * Tar header bytes are part of every layer digest: the encoder's output for a set of headers that
 * reaches each of its paths (plain ustar fields, the largest values that fit, values that need PAX
 * records — too large, negative, fractional —, long and non-ASCII names, link names, user and
 * group names, device numbers, xattrs) is pinned to the digest the string-based encoder gave
 * before its fields were written byte by byte (s15): a change here changes layer digests.
 */
import { createHash } from 'node:crypto';
import { expect, test } from '@jest/globals';
import { encodeHeader } from '../../../src/worker/diff/tar-encode.js';
import type { TarHeader } from '../../../src/worker/diff/tar-types.js';

const base: TarHeader = { name: 'a', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, type: 'file', linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0, xattrs: new Map() };

const cases: Partial<TarHeader>[] = [
  {},
  { name: 'data/files/f12', size: 10, mtime: 1700000000, uid: 1000, gid: 1000, mode: 0o100755 },
  { name: 'dir/', type: 'dir', mode: 0o40755, mtime: 1700000000.5 },
  { name: 'x'.repeat(100), size: 8 ** 11 - 1, mtime: 8 ** 11 - 1, uid: 8 ** 7 - 1, gid: 8 ** 7 - 1, mode: 0o7777 },
  { name: `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(40)}`, size: 8 ** 11, uid: 8 ** 7, gid: -1, mtime: -5 },
  { name: 'ünïcödé/naïve', linkname: 'tärget', type: 'symlink', uname: 'ßuser', gname: 'g'.repeat(40) },
  { name: 'l', type: 'hardlink', linkname: 'y'.repeat(120), uname: 'root', gname: 'wheel' },
  { name: 'dev', type: 'char', devmajor: 8 ** 7 - 1, devminor: 255, mode: 0o20644 },
  { name: 'cap', xattrs: new Map([['security.capability', Buffer.from([1, 0, 0, 2, 0xff, 0x80])], ['user.a', Buffer.from('b')]]) },
  { name: 'big', size: 2 ** 40, mtime: 2 ** 35 },
  { name: 'frac', mtime: 12.75, size: 3.5 },
];

test('header bytes are the ones layer digests were made with', () => {
  const h = createHash('sha256');
  for (const c of cases) h.update(encodeHeader({ ...base, ...c }));
  expect(h.digest('hex')).toBe('4b46146697d3b4170f37e6190228e738e2624001693d0ff7fcecf48611f4c601');
});

test('a plain entry is one ustar block with a valid checksum and zero padding', () => {
  const b = encodeHeader({ ...base, name: 'data/files/f1', size: 7, mtime: 1700000000 });
  expect(b.length).toBe(512);
  expect(b.subarray(0, 14).toString('latin1')).toBe('data/files/f1\0');
  expect(b.subarray(124, 136).toString('latin1')).toBe('00000000007\0');
  expect(b.subarray(257, 265).toString('latin1')).toBe('ustar\x0000');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (b[i] as number);
  expect(b.subarray(148, 155).toString('latin1')).toBe(`${sum.toString(8).padStart(6, '0')}\0`);
  expect(b.subarray(500).every((x) => x === 0)).toBe(true);
});
