import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ContentStore } from '../../src/cache/content-store.js';
import { dataRootPaths } from '../../src/cache/data-root.js';
import { isTsbuildError } from '../../src/util/errors.js';
import type { TestRoot } from './helpers/temp-root.js';
import { makeTestRoot } from './helpers/temp-root.js';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return isTsbuildError(e) ? e.code : `untyped: ${String(e)}`;
  }
  return undefined;
}

describe('content store', () => {
  let t: TestRoot;
  let store: ContentStore;
  beforeEach(async () => {
    t = await makeTestRoot();
    store = await ContentStore.open({ paths: dataRootPaths(t.root) });
  });
  afterEach(async () => t.cleanup());

  test('put stores a blob under its sha256 and reads it back', async () => {
    const data = Buffer.from('hello layer');
    const info = await store.put(data);
    expect(info.digest).toBe(sha(data));
    expect(info.size).toBe(data.length);
    expect(await readFile(join(t.root, 'content', 'blobs', 'sha256', sha(data).slice(7)))).toEqual(data);
    expect(await store.readAll(info.digest)).toEqual(data);
    expect((await store.info(info.digest))?.size).toBe(data.length);
    expect(await readdir(join(t.root, 'content', 'ingest'))).toEqual([]);
  });

  test('putting bytes already stored claims the blob instead of writing it again', async () => {
    const data = Buffer.from('same config');
    const first = await store.put(data);
    const file = join(t.root, 'content', 'blobs', 'sha256', first.digest.slice(7));
    const old = new Date(Date.now() - 3_600_000);
    await utimes(file, old, old);
    const ino = (await stat(file)).ino;
    const again = await store.put(data);
    expect(again).toMatchObject({ digest: first.digest, size: data.length });
    // The same file (no rename over it), young again for garbage collection.
    expect((await stat(file)).ino).toBe(ino);
    expect(again.committedAt).toBeGreaterThan(old.getTime() + 1_800_000);
    expect(await store.readAll(again.digest)).toEqual(data);
    // A size that does not match still fails as before.
    expect(await codeOf(store.put(data, { expectedSize: data.length + 1 }))).toBe('BLOB_SIZE_MISMATCH');
  });

  test('the empty blob is a blob', async () => {
    const info = await store.put(Buffer.alloc(0));
    expect(info.digest).toBe(sha(''));
    expect(await store.readAll(info.digest)).toEqual(Buffer.alloc(0));
  });

  test('a streaming writer hashes while writing and works with pipeline()', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(65536, i));
    const all = Buffer.concat(chunks);
    const w = store.writer({ expected: sha(all) });
    await pipeline(Readable.from(chunks), w);
    const info = await w.commit();
    expect(info).toMatchObject({ digest: sha(all), size: all.length });
    expect((await store.readAll(info.digest)).equals(all)).toBe(true);
  });

  test('a digest mismatch fails the commit and leaves neither blob nor temp file', async () => {
    const w = store.writer({ expected: sha('something else') });
    w.write(Buffer.from('actual content'));
    expect(await codeOf(w.commit())).toBe('BLOB_DIGEST_MISMATCH');
    expect(await store.info(sha('actual content'))).toBeUndefined();
    expect(await readdir(join(t.root, 'content', 'ingest'))).toEqual([]);
    expect(await readdir(join(t.root, 'content', 'blobs', 'sha256'))).toEqual([]);
  });

  test('a size mismatch fails the commit', async () => {
    expect(await codeOf(store.put('abc', { expectedSize: 4 }))).toBe('BLOB_SIZE_MISMATCH');
    expect(await readdir(join(t.root, 'content', 'blobs', 'sha256'))).toEqual([]);
  });

  test('an invalid expected digest is rejected up front', () => {
    expect(() => store.writer({ expected: 'sha256:XYZ' })).toThrow(/invalid digest/);
  });

  test('aborting the signal discards the write', async () => {
    const ac = new AbortController();
    const w = store.writer({ signal: ac.signal });
    await new Promise<void>((resolve, reject) => w.write(Buffer.alloc(1000, 1), (e) => (e ? reject(e) : resolve())));
    ac.abort(new Error('stop'));
    expect(await codeOf(w.commit())).toBe('CANCELLED');
    expect(await readdir(join(t.root, 'content', 'ingest'))).toEqual([]);
    expect(await readdir(join(t.root, 'content', 'blobs', 'sha256'))).toEqual([]);
  });

  test('abort() discards an unfinished write', async () => {
    const w = store.writer();
    w.write(Buffer.from('partial'));
    await w.abort();
    expect(await readdir(join(t.root, 'content', 'ingest'))).toEqual([]);
  });

  test('two writers of the same digest both succeed', async () => {
    const data = Buffer.alloc(300_000, 3);
    const a = store.writer();
    const b = store.writer();
    a.write(data.subarray(0, 1000));
    b.write(data.subarray(0, 5000));
    a.write(data.subarray(1000));
    b.write(data.subarray(5000));
    const [ia, ib] = await Promise.all([a.commit(), b.commit()]);
    expect(ia.digest).toBe(ib.digest);
    expect((await store.readAll(ia.digest)).equals(data)).toBe(true);
  });

  test('reader() reads from an offset; missing blobs are BLOB_NOT_FOUND', async () => {
    const info = await store.put('0123456789');
    const r = await store.reader(info.digest, { offset: 4 });
    const parts: Buffer[] = [];
    for await (const c of r) parts.push(c as Buffer);
    expect(Buffer.concat(parts).toString()).toBe('456789');
    expect(await codeOf(store.reader(sha('nope')))).toBe('BLOB_NOT_FOUND');
    expect(await codeOf(store.reader(info.digest, { offset: 11 }))).toBe('INVALID_OFFSET');
    expect(await codeOf(store.readAll(sha('nope')))).toBe('BLOB_NOT_FOUND');
  });

  test('readAll detects a blob whose content does not match its name', async () => {
    const info = await store.put('original');
    await writeFile(store.blobPath(info.digest), 'tampered');
    expect(await codeOf(store.readAll(info.digest))).toBe('BLOB_CORRUPT');
  });

  test('readAll reads a small blob without a thread-pool trip, a large one with them, and verifies both', async () => {
    const small = await store.put(Buffer.alloc(4096, 1));
    const large = await store.put(Buffer.alloc(300 * 1024, 2));
    const pending = (p: Promise<unknown>): string[] => {
      const now = process.getActiveResourcesInfo().filter((r) => r.startsWith('FS'));
      p.catch(() => undefined);
      return now;
    };
    const before = process.getActiveResourcesInfo().filter((r) => r.startsWith('FS')).length;
    const s = store.readAll(small.digest);
    expect(pending(s)).toHaveLength(before);
    expect((await s).equals(Buffer.alloc(4096, 1))).toBe(true);
    const l = store.readAll(large.digest);
    expect(pending(l).length).toBeGreaterThan(before);
    expect((await l).equals(Buffer.alloc(300 * 1024, 2))).toBe(true);
    await writeFile(store.blobPath(large.digest), Buffer.alloc(300 * 1024, 3));
    expect(await codeOf(store.readAll(large.digest))).toBe('BLOB_CORRUPT');
  });

  test('list and delete', async () => {
    const a = await store.put('a');
    const b = await store.put('bb');
    const listed: string[] = [];
    for await (const i of store.list()) listed.push(i.digest);
    expect(listed.sort()).toEqual([a.digest, b.digest].sort());
    expect(await store.totalBytes()).toBe(3);
    expect(await store.delete(a.digest)).toBe(true);
    expect(await store.delete(a.digest)).toBe(false);
    expect(await store.has(a.digest)).toBe(false);
    expect(await store.has(b.digest)).toBe(true);
  });

  test('list skips the blobs it is told to, without looking at them', async () => {
    const a = await store.put('a');
    const b = await store.put('bb');
    const listed: string[] = [];
    for await (const i of store.list({}, new Set([a.digest]))) listed.push(i.digest);
    expect(listed).toEqual([b.digest]);
  });

  test('cleanupIngest removes files of dead writers and, when asked, stale ones of live writers', async () => {
    const ingest = join(t.root, 'content', 'ingest');
    // pid 2^22+1 is above the kernel's pid_max limit, so it never runs.
    await writeFile(join(ingest, '4194305-12345-deadbeef'), 'x');
    const live = store.writer();
    // The write callback runs once the chunk is in the ingest file.
    await new Promise<void>((resolve, reject) => live.write('in progress', (e) => (e ? reject(e) : resolve())));
    expect((await store.cleanupIngest()).map((p) => p.split('/').pop())).toEqual(['4194305-12345-deadbeef']);
    expect(await readdir(ingest)).toEqual([live.tempPath.split('/').pop()]);
    // A live writer's file is stale once older than the limit: age it instead of waiting.
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(live.tempPath, minuteAgo, minuteAgo);
    expect(await store.cleanupIngest({ olderThanMs: 120_000 })).toEqual([]);
    expect(await store.cleanupIngest({ olderThanMs: 30_000 })).toEqual([live.tempPath]);
    await live.abort();
  });
});
