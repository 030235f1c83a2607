import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { CacheStorage } from '../../src/cache/cache-storage.js';
import type { HistoryStepInput } from '../../src/cache/types.js';
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

  test('build history keeps each step with what went into it, and the newest N builds', () => {
    const step = (i: number, o: Partial<HistoryStepInput>): HistoryStepInput => ({
      index: i, vertexDigest: d(String(i)), name: `[${i + 1}/2] X`, stage: '0', instruction: 'X', cacheKey: d('9'), parentKey: undefined, outcome: 'cached',
      why: undefined, startedAt: 1, finishedAt: 2, durationMs: 1, layerSize: 10, bytesRead: undefined, facts: {}, files: undefined, ...o,
    });
    const files = [['a.txt', '01'], ['b.txt', '02']] as const;
    const b = s.history.record({
      description: 'build -t app .', dockerfile: '/ctx/Dockerfile', status: 'succeeded', startedAt: 1, finishedAt: 9,
      steps: [
        step(0, { instruction: 'FROM busybox', facts: { imageId: d('5') } }),
        step(1, { instruction: 'COPY . /src', parentKey: d('3'), outcome: 'executed', why: 'first build of this Dockerfile', files: [...files], bytesRead: 7 }),
      ],
    });
    expect(b).toMatchObject({ status: 'succeeded', stepsTotal: 2, stepsCached: 1, stepsExecuted: 1, dockerfile: '/ctx/Dockerfile' });
    expect(s.history.steps(b.buildId).map((x) => [x.outcome, x.why, x.filesCount])).toEqual([['cached', undefined, 0], ['executed', 'first build of this Dockerfile', 2]]);
    expect(s.history.steps(b.buildId)[0]?.facts).toEqual({ imageId: d('5') });
    expect(s.history.hasBuildsOf('/ctx/Dockerfile')).toBe(true);
    expect(s.history.hasBuildsOf('/other/Dockerfile')).toBe(false);
    // Same Dockerfile, stage and instruction; else the same parent key.
    expect(s.history.closest({ dockerfile: '/ctx/Dockerfile', stage: '0', instruction: 'COPY . /src', parentKey: d('4') })?.files).toEqual(files);
    expect(s.history.closest({ dockerfile: '/x/Dockerfile', stage: '0', instruction: 'RUN y', parentKey: d('3') })?.step.instruction).toBe('COPY . /src');
    expect(s.history.closest({ dockerfile: '/x/Dockerfile', stage: '0', instruction: 'RUN y', parentKey: d('4') })).toBeUndefined();
    // A second build with the same files shares their row; trimming to 1 keeps it.
    const b2 = s.history.record({ description: 'second', dockerfile: '/ctx/Dockerfile', status: 'failed', startedAt: 10, finishedAt: 11, steps: [step(0, { files: [...files] })], keep: 1 });
    expect(s.history.list().map((x) => x.buildId)).toEqual([b2.buildId]);
    expect(s.history.steps(b.buildId)).toEqual([]);
    expect(s.history.filesOf(b2.buildId, 0)).toEqual(files);
    expect(s.db.sqlite.prepare('SELECT COUNT(*) AS n FROM history_file_sets').get()).toEqual({ n: 1 });
    expect(s.history.trim(0)).toBe(1);
    expect(s.db.sqlite.prepare('SELECT COUNT(*) AS n FROM history_file_sets').get()).toEqual({ n: 0 });
    // Recorded out of order: the newest by start (then end) stay, whatever the order of recording.
    const starts = [[50, 51], [20, 21], [70, 71], [50, 55], [10, 11], [60, 61]] as const;
    const ids = starts.map(([startedAt, finishedAt]) =>
      s.history.record({ description: `b${startedAt}-${finishedAt}`, dockerfile: '/ctx/Dockerfile', status: 'succeeded', startedAt, finishedAt, steps: [step(0, {})], keep: 100 }).buildId);
    expect(s.history.trim(4)).toBe(2);
    expect(s.history.list().map((x) => x.description)).toEqual(['b70-71', 'b60-61', 'b50-55', 'b50-51']);
    expect(s.history.steps(ids[1] as string)).toEqual([]);
    expect(s.history.trim(4)).toBe(0);
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
