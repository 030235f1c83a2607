/**
 * The plain-JavaScript SHA-256 (src/util/sha256.ts) against node:crypto: the FIPS 180-2 examples,
 * every length across the padding boundaries (0–300 octets), strings with multi-byte UTF-8, and a
 * few random inputs of several blocks.
 */
import { describe, expect, test } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { sha256Hex } from '../../src/util/sha256.js';

const native = (b: string | Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('sha256Hex', () => {
  test('the FIPS 180-2 examples', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  test('every length from 0 to 300 octets, random bytes and strings with multi-byte characters', () => {
    for (let n = 0; n <= 300; n++) {
      const bytes = randomBytes(n);
      expect([n, sha256Hex(bytes)]).toEqual([n, native(bytes)]);
    }
    for (const s of ['tsbuild-host\0/work/ctx', 'hôte\0/données/ünïcode/文脈', 'history:stdin-123']) expect(sha256Hex(s)).toBe(native(s));
    for (const n of [1000, 4096, 100_000]) {
      const bytes = randomBytes(n);
      expect(sha256Hex(bytes)).toBe(native(bytes));
    }
  });
});
