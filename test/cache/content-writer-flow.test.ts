/**
 * How a ContentWriter moves bytes to disk (docs/benchmarks.md, s16-single): with `chunksUnchanged`
 * the next chunk is taken while earlier ones are still being written, every FLUSH_BYTES what was
 * written is flushed early, and a write that fails while later chunks were already taken still
 * fails the blob. The bytes and the digest are the same either way.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { createHook } from 'node:async_hooks';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentWriter } from '../../src/cache/content-writer.js';
import { countPoolTrips } from '../helpers/pool-trips.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Writes `chunks` back to back (no wait for the stream) and commits. */
async function writeAll(w: ContentWriter, chunks: readonly Buffer[]): Promise<string> {
  for (const c of chunks) w.write(c);
  return (await w.commit()).digest;
}

/** The most fs requests of this process in the thread pool at once while `fn` runs. */
async function mostPending<T>(fn: () => Promise<T>): Promise<{ readonly result: T; readonly most: number }> {
  const pending = new Set<number>();
  let most = 0;
  const hook = createHook({
    init(id, type) {
      if (!type.startsWith('FSREQ')) return;
      pending.add(id);
      most = Math.max(most, pending.size);
    },
    before(id) {
      pending.delete(id);
    },
  });
  hook.enable();
  try {
    return { result: await fn(), most };
  } finally {
    hook.disable();
  }
}

describe('content writer: writes in flight and early flushes', () => {
  let dir: string;
  let ingestDir: string;
  let blobsDir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-writer-flow-'));
    ingestDir = join(dir, 'ingest');
    blobsDir = join(dir, 'blobs');
    await mkdir(ingestDir);
    await mkdir(blobsDir);
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  test('with chunksUnchanged the next chunks are taken while earlier ones are written; alone, one write at a time', async () => {
    const chunks = Array.from({ length: 8 }, (_, i) => randomBytes(256 * 1024 + i));
    const whole = Buffer.concat(chunks);
    for (const chunksUnchanged of [true, false]) {
      const { result: digest, most } = await mostPending(() => writeAll(new ContentWriter({ ingestDir, blobsDir, chunksUnchanged }), chunks));
      expect(digest).toBe(sha(whole));
      expect((await readFile(join(blobsDir, digest.slice(7)))).equals(whole)).toBe(true);
      // 2 MiB: no early flush; each write is one request (the commit's come after the last write).
      if (chunksUnchanged) expect(most).toBeGreaterThan(1);
      else expect(most).toBe(1);
    }
  });

  test('what was written is flushed before the end once FLUSH_BYTES were written, and the blob is whole', async () => {
    const { fdatasync, fsync } = fs;
    const calls: string[] = [];
    fs.fdatasync = ((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      calls.push('datasync');
      fdatasync(fd, cb);
    }) as typeof fs.fdatasync;
    fs.fsync = ((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      calls.push('sync');
      fsync(fd, cb);
    }) as typeof fs.fsync;
    try {
      for (const chunksUnchanged of [true, false]) {
        calls.length = 0;
        const chunks = Array.from({ length: 12 }, () => randomBytes(MiB));
        const whole = Buffer.concat(chunks);
        const digest = await writeAll(new ContentWriter({ ingestDir, blobsDir, chunksUnchanged }), chunks);
        expect(digest).toBe(sha(whole));
        expect((await readFile(join(blobsDir, digest.slice(7)))).equals(whole)).toBe(true);
        // Early flushes first, then the blob's fsync at the end and its directory's.
        expect(calls[0]).toBe('datasync');
        expect(calls.slice(-2)).toEqual(['sync', 'sync']);
      }
    } finally {
      fs.fdatasync = fdatasync;
      fs.fsync = fsync;
    }
  });

  test('a write that fails while later chunks were taken fails the commit and leaves no file', async () => {
    // A 1 MiB tmpfs: the writes beyond it fail with ENOSPC.
    const small = join(dir, 'small');
    await mkdir(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    try {
      // Big chunks go through the thread pool, small ones are written synchronously.
      for (const [chunksUnchanged, chunk, n] of [[true, 512 * 1024, 6], [false, 512 * 1024, 6], [true, 16 * 1024, 100]] as const) {
        const w = new ContentWriter({ ingestDir: small, blobsDir, chunksUnchanged });
        const chunks = Array.from({ length: n }, () => randomBytes(chunk));
        await expect(writeAll(w, chunks)).rejects.toMatchObject({ code: 'ENOSPC' });
        expect(await readdir(small)).toEqual([]);
        expect(await readdir(blobsDir)).toEqual([]);
      }
    } finally {
      execFileSync('umount', [small]);
    }
  });

  test('a small blob takes two thread-pool trips, its fsync and its directory\'s; its digest is told before them', async () => {
    const { fsync } = fs;
    const calls: string[] = [];
    fs.fsync = ((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      calls.push('sync');
      fsync(fd, cb);
    }) as typeof fs.fsync;
    try {
      const bytes = randomBytes(6 * 1024);
      const onHashed = (m: { readonly digest: string; readonly size: number }): void => {
        calls.push(`hashed ${m.digest} ${m.size}`);
      };
      const { result: digest, trips } = await countPoolTrips(() => writeAll(new ContentWriter({ ingestDir, blobsDir, chunksUnchanged: true, onHashed }), [bytes.subarray(0, 1024), bytes.subarray(1024)]));
      expect(digest).toBe(sha(bytes));
      expect((await readFile(join(blobsDir, digest.slice(7)))).equals(bytes)).toBe(true);
      // Opening, writing, closing, renaming and the stat after it took seven trips more.
      expect(trips).toHaveLength(2);
      expect(calls).toEqual([`hashed ${sha(bytes)} ${bytes.length}`, 'sync', 'sync']);
    } finally {
      fs.fsync = fsync;
    }
  });
});
