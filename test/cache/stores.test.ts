import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { CacheStorage } from '../../src/cache/cache-storage.js';
import type { TestRoot } from './helpers/temp-root.js';
import { makeTestRoot } from './helpers/temp-root.js';

const d = (c: string): string => `sha256:${c.repeat(64)}`;

describe('image store, layer-blob cache, build history, stat cache, locks', () => {
  let t: TestRoot;
  let s: CacheStorage;
  beforeEach(async () => {
    t = await makeTestRoot();
    s = await t.open();
  });
  afterEach(async () => t.cleanup());

  test('images: put/get/list/tag/delete', () => {
    s.images.put({ name: 'app:1', manifestDigest: d('a'), configDigest: d('b') });
    expect(s.images.get('app:1')).toMatchObject({ manifestDigest: d('a'), configDigest: d('b'), mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    s.images.tag('app:1', 'app:latest');
    expect(s.images.list().map((i) => i.name)).toEqual(['app:1', 'app:latest']);
    s.images.put({ name: 'app:latest', manifestDigest: d('c'), configDigest: d('e') });
    expect(s.images.get('app:1')?.manifestDigest).toBe(d('a'));
    expect(s.images.get('app:latest')?.manifestDigest).toBe(d('c'));
    expect(s.images.delete('app:1')).toBe(true);
    expect(s.images.delete('app:1')).toBe(false);
    expect(() => s.images.tag('nope', 'x')).toThrow(expect.objectContaining({ code: 'IMAGE_NOT_FOUND' }));
    expect(() => s.images.put({ name: 'bad', manifestDigest: 'md5:1', configDigest: d('b') })).toThrow(expect.objectContaining({ code: 'INVALID_DIGEST' }));
  });

  test('layer blobs are remembered per snapshot and compression', () => {
    s.layerBlobs.put({ snapshotId: 'snap', compression: 'gzip', blobDigest: d('1'), diffId: d('2'), size: 10, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });
    s.layerBlobs.put({ snapshotId: 'snap', compression: 'uncompressed', blobDigest: d('2'), diffId: d('2'), size: 30, mediaType: 'application/vnd.oci.image.layer.v1.tar' });
    expect(s.layerBlobs.get('snap', 'gzip')).toMatchObject({ blobDigest: d('1'), diffId: d('2'), size: 10 });
    expect(s.layerBlobs.get('snap', 'zstd')).toBeUndefined();
    expect(s.layerBlobs.isBlobReferenced(d('1'))).toBe(true);
    expect(s.layerBlobs.deleteSnapshot('snap').map((e) => e.compression)).toEqual(['gzip', 'uncompressed']);
    expect(s.layerBlobs.forSnapshot('snap')).toEqual([]);
  });

  test('build history keeps per-step hit/miss records', () => {
    const b = s.history.start({ description: 'build -t app .' });
    expect(b.status).toBe('running');
    s.history.recordSteps(b.buildId, [
      { index: 0, vertexDigest: d('1'), name: '[1/2] FROM busybox', cacheKey: d('3'), outcome: 'hit', reason: undefined, startedAt: 1, finishedAt: 2 },
      { index: 1, vertexDigest: d('2'), name: '[2/2] RUN make', cacheKey: d('4'), outcome: 'miss', reason: 'no record for key', startedAt: 2, finishedAt: 9 },
    ]);
    const done = s.history.finish(b.buildId, { status: 'succeeded', stepsTotal: 2, stepsCached: 1, stepsExecuted: 1 });
    expect(done).toMatchObject({ status: 'succeeded', stepsTotal: 2, stepsCached: 1, stepsExecuted: 1 });
    expect(done.finishedAt).toBeGreaterThanOrEqual(done.startedAt);
    expect(s.history.steps(b.buildId).map((x) => [x.outcome, x.reason])).toEqual([['hit', undefined], ['miss', 'no record for key']]);
    expect(() => s.history.recordSteps('nope', [])).toThrow(expect.objectContaining({ code: 'BUILD_NOT_FOUND' }));
    s.history.start({ description: 'second' });
    expect(s.history.trim(1)).toBe(1);
    expect(s.history.list().map((x) => x.description)).toEqual(['second']);
    expect(s.history.steps(b.buildId)).toEqual([]);
  });

  test('stat cache entries are per root', () => {
    s.statCache.putMany('/ctx1', [{ path: 'a', size: 1, mtimeMs: 1.5, ctimeMs: 2.25, ino: 3, mode: 0o100644, digest: 'xxh64:00' }]);
    expect(s.statCache.get('/ctx1', 'a')).toEqual({ path: 'a', size: 1, mtimeMs: 1.5, ctimeMs: 2.25, ino: 3, mode: 0o100644, digest: 'xxh64:00' });
    expect(s.statCache.get('/ctx2', 'a')).toBeUndefined();
    expect(s.statCache.clear('/ctx1')).toBe(1);
    expect(s.statCache.get('/ctx1', 'a')).toBeUndefined();
  });

  test('a lock is exclusive while its owner lives', () => {
    const a = s.locks.tryAcquire('gc');
    expect(a).toBeDefined();
    expect(s.locks.tryAcquire('gc')).toBeUndefined();
    a?.release();
    const b = s.locks.tryAcquire('gc');
    expect(b).toBeDefined();
    b?.release();
    // A lock row of a process that does not exist is free.
    s.db.write(() => s.db.sqlite.prepare("INSERT INTO locks (name, pid, pid_start, acquired_at) VALUES ('gc', 4194305, '1', 0)").run());
    expect(s.locks.stale()).toEqual(['gc']);
    const c = s.locks.tryAcquire('gc');
    expect(c).toBeDefined();
    c?.release();
  });
});
