/**
 * A big file's body in a layer tar: the read of its next chunk is already in the thread pool while
 * the consumer holds the chunk before it (hashing and writing it), and the bytes come out whole
 * and in order — a last partial chunk, an exact multiple of the chunk size and an empty file
 * included (GNU tar extracts them equal to the sources).
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { createHook } from 'node:async_hooks';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerTar } from '../../../src/worker/diff/layer-tar.js';

const MiB = 1024 * 1024;

describe('layer tar: a big file read ahead', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'tsbuild-tar-read-ahead-'));
  });
  afterEach(async () => rm(tmp, { recursive: true, force: true }));

  test('the next chunk is being read while the consumer holds one; the files come out whole', async () => {
    const layer = join(tmp, 'layer');
    await mkdir(join(layer, 'd'), { recursive: true });
    const files: Record<string, Buffer> = {
      'd/big.bin': randomBytes(3 * MiB + 12345),
      'd/exact.bin': randomBytes(2 * MiB),
      'd/empty': Buffer.alloc(0),
      'small.txt': Buffer.from('small\n'),
    };
    for (const [p, b] of Object.entries(files)) await writeFile(join(layer, p), b);

    const pending = new Set<number>();
    const hook = createHook({
      init(id, type) {
        if (type.startsWith('FSREQ')) pending.add(id);
      },
      before(id) {
        pending.delete(id);
      },
    });
    const parts: Buffer[] = [];
    /** Requests in the pool each time the consumer got a chunk of a whole MiB (a file body's). */
    const atBody: number[] = [];
    hook.enable();
    try {
      for await (const c of layerTar(layer)) {
        parts.push(c);
        if (c.length === MiB) atBody.push(pending.size);
      }
    } finally {
      hook.disable();
    }
    // big.bin's three whole MiB (its tail's read under way at the third), then exact.bin's two:
    // the next read is under way at each but a file's last chunk.
    expect(atBody.map((n) => n > 0)).toEqual([true, true, true, true, false]);

    const tarFile = join(tmp, 'layer.tar');
    await writeFile(tarFile, Buffer.concat(parts));
    const out = join(tmp, 'out');
    await mkdir(out);
    execFileSync('tar', ['-xf', tarFile, '-C', out]);
    for (const [p, b] of Object.entries(files)) expect((await readFile(join(out, p))).equals(b)).toBe(true);
  });
});
