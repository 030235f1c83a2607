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
import { mkdir, mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentWriter } from '../../src/cache/content-writer.js';

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
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const { datasync, sync } = proto;
    const calls: string[] = [];
    proto.datasync = function (this: FileHandle) {
      calls.push('datasync');
      return datasync.call(this);
    };
    proto.sync = function (this: FileHandle) {
      calls.push('sync');
      return sync.call(this);
    };
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
      proto.datasync = datasync;
      proto.sync = sync;
    }
  });

  test('a write that fails while later chunks were taken fails the commit and leaves no file', async () => {
    // A 1 MiB tmpfs: the writes beyond it fail with ENOSPC.
    const small = join(dir, 'small');
    await mkdir(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    try {
      for (const chunksUnchanged of [true, false]) {
        const w = new ContentWriter({ ingestDir: small, blobsDir, chunksUnchanged });
        const chunks = Array.from({ length: 6 }, () => randomBytes(512 * 1024));
        await expect(writeAll(w, chunks)).rejects.toMatchObject({ code: 'ENOSPC' });
        expect(await readdir(small)).toEqual([]);
        expect(await readdir(blobsDir)).toEqual([]);
      }
    } finally {
      execFileSync('umount', [small]);
    }
  });
});
