import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BlockGzip, byteEntropy, GZIP_BLOCK } from '../../src/exporter/gzip-blocks.js';

/** Deterministic pseudo-random bytes (so failures reproduce). */
function noise(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function text(n: number): Buffer {
  const words = ['layer', 'overlay', 'snapshot', 'digest', 'manifest', 'RUN', 'COPY', '\n', 'busybox', 'tsbuild'];
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; len < n; i++) {
    const w = `${words[(i * 7 + (i >> 3)) % words.length]} ${i % 97} `;
    parts.push(w);
    len += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

/** Runs `data` through BlockGzip, written in chunks of the given sizes (cycled). */
async function gzipBlocks(data: Buffer, chunkSizes: readonly number[], level?: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let i = 0, k = 0; i < data.length; k++) {
    const n = chunkSizes[k % chunkSizes.length] as number;
    chunks.push(data.subarray(i, i + n));
    i += n;
  }
  return buffer(Readable.from(chunks).pipe(new BlockGzip(level !== undefined ? { level } : {})));
}

const mixed = Buffer.concat([text(700_000), noise(1_500_000, 7), Buffer.alloc(900_000), text(GZIP_BLOCK), noise(123, 9)]);

describe('BlockGzip', () => {
  test.each([
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from('x')],
    ['text, one block exactly', text(GZIP_BLOCK)],
    ['text, one block and one byte', text(GZIP_BLOCK + 1)],
    ['random, several blocks', noise(3 * GZIP_BLOCK + 5, 3)],
    ['mixed text, random and zeros', mixed],
  ])('%s: a standard gzip stream that gunzips to the input', async (_what, data) => {
    const gz = await gzipBlocks(data, [65_536]);
    expect(gz.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 0x08]));
    expect(gunzipSync(gz).equals(data)).toBe(true);
    // GNU gzip agrees (it checks the CRC and length in the trailer too).
    const r = spawnSync('gzip', ['-t'], { input: gz });
    expect(r.status).toBe(0);
  });

  test('the output depends only on the bytes, not on how they were chunked', async () => {
    const a = await gzipBlocks(mixed, [65_536]);
    const b = await gzipBlocks(mixed, [1, 333, 4_000_000, 17]);
    const c = await gzipBlocks(mixed, [GZIP_BLOCK]);
    expect(b.equals(a)).toBe(true);
    expect(c.equals(a)).toBe(true);
  });

  test('compressible data shrinks as much as with zlib; incompressible data is stored, barely larger', async () => {
    const t = text(5 * GZIP_BLOCK);
    const ours = await gzipBlocks(t, [65_536]);
    const zlib = gzipSync(t);
    expect(ours.length).toBeLessThan(zlib.length * 1.02);
    const r = randomBytes(2 * GZIP_BLOCK);
    const stored = await gzipBlocks(r, [65_536]);
    expect(stored.length).toBeLessThan(r.length * 1.001 + 64);
    expect(byteEntropy(r)).toBeGreaterThan(7.9);
    expect(byteEntropy(t)).toBeLessThan(6);
  });

  test('level 0 stores everything; level 9 is at least as small as level 1', async () => {
    const t = text(2 * GZIP_BLOCK);
    const l0 = await gzipBlocks(t, [65_536], 0);
    expect(l0.length).toBeGreaterThan(t.length);
    expect(gunzipSync(l0).equals(t)).toBe(true);
    const l1 = await gzipBlocks(t, [65_536], 1);
    const l9 = await gzipBlocks(t, [65_536], 9);
    expect(l9.length).toBeLessThanOrEqual(l1.length);
    expect(l9[8]).toBe(2);
    expect(l1[8]).toBe(4);
  });
});
