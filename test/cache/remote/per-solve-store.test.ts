/**
 * The solver's per-solve cache store (`SolveOptions.cache` / `loader`), which `--cache-from` builds
 * use, and RemoteRecordStore on top of it: lookups and saves of such a build go to its own store;
 * it never shares in-flight vertices with builds using the engine's store; imported records are
 * offered as `remote:<n>` results that only its loader understands; local records win while their
 * result exists. Real Solver and scheduler over the solver tests' fake ops.
 */
import { describe, expect, test } from '@jest/globals';
import { MemoryCacheStore } from '../../../src/solver/memory-cache-store.js';
import { RemoteRecordStore, isRemoteResultId } from '../../../src/cache/remote/remote-record-store.js';
import { CACHE_FORMAT_VERSION, type CacheConfig, type ImportedCache } from '../../../src/cache/remote/types.js';
import { EMPTY_LAYER_DIFF_ID } from '../../../src/cache/remote/cache-config.js';
import type { ResultLoader } from '../../../src/solver/types.js';
import { fakeVertex } from '../../solver/fake-ops.js';
import { harness, step } from '../../solver/harness.js';
import { deferred, waitFor } from '../../helpers/wait-for.js';

const d = (c: string): string => `sha256:${c.repeat(64)}`;

function imported(config: CacheConfig, blobsByDiffId?: ReadonlyMap<string, { mediaType: string; digest: string; size: number }>): ImportedCache {
  return {
    name: 'test cache',
    config,
    fetcher: { name: 'test cache', fetch: async () => 0 },
    ...(blobsByDiffId ? { blobsByDiffId } : {}),
  };
}

describe('a solve with its own cache store', () => {
  test('looks up and saves in its store only; the engine store is untouched', async () => {
    const h = harness();
    const own = new MemoryCacheStore();
    const a = fakeVertex(h.world, { name: 'a' });
    const b = fakeVertex(h.world, { name: 'b', inputs: [a] });
    const first = await h.solver.solve({ target: { vertex: b, index: 0 }, cache: own, loader: h.loader });
    await first.result.release();
    expect(own.size).toBe(2);
    expect(h.store.size).toBe(0);
    const second = await h.solver.solve({ target: { vertex: b, index: 0 }, cache: own, loader: h.loader });
    expect(step(second, 'b').outcome).toBe('cached');
    expect(h.world.execCount('b')).toBe(1);
    await second.result.release();
    // The engine's store never saw those records: a plain solve runs again.
    const plain = await h.solve(b);
    expect(step(plain, 'b').outcome).toBe('executed');
    await plain.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('never shares an in-flight vertex with a build on the engine store', async () => {
    const h = harness();
    const gate = deferred();
    const slow = fakeVertex(h.world, { name: 'slow', gate: gate.promise });
    const p1 = h.solve(slow);
    const p2 = h.solver.solve({ target: { vertex: slow, index: 0 }, cache: new MemoryCacheStore(), loader: h.loader });
    // Both run while the gate is shut: a build joining the other's in-flight exec would never
    // start its own, and this wait would time out.
    await waitFor(() => h.world.execCount('slow') === 2, { what: 'both builds to start their own exec of slow' });
    gate.resolve();
    const [r1, r2] = await Promise.all([p1, p2]);
    // Same digest, but each build ran it against its own store.
    expect(h.world.execCount('slow')).toBe(2);
    await r1.result.release();
    await r2.result.release();
    expect(h.world.liveRefs).toBe(0);
  });
});

describe('RemoteRecordStore', () => {
  const config: CacheConfig = {
    version: CACHE_FORMAT_VERSION,
    layers: [
      { diffId: d('1'), parent: -1, blob: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('a'), size: 10 } },
      { diffId: EMPTY_LAYER_DIFF_ID, parent: 0 },
      { diffId: d('2'), parent: 1 },
    ],
    records: [
      { key: 'k1', output: 0, recordType: 'regular', description: 'step one', inputs: [], layer: 1 },
      { key: 'k2', output: 0, recordType: 'regular', description: 'step two', inputs: ['k1'], layer: 2 },
      { key: 'k0', output: 0, recordType: 'regular', description: 'scratch', inputs: [], layer: -1 },
    ],
  };

  test('offers imported records as remote:<n> results with their chain, empty layers made locally', async () => {
    const store = new RemoteRecordStore({ local: new MemoryCacheStore(), exists: async () => true, caches: [imported(config)] });
    // k2's top layer has no blob and is not empty: its chain cannot be rebuilt, so it is not offered.
    expect(store.size).toBe(2);
    const rec = await store.lookup('k1', 0);
    expect(rec && isRemoteResultId(rec.resultId)).toBe(true);
    expect(store.remote(rec?.resultId ?? '')?.chain).toEqual([
      { kind: 'blob', diffId: d('1'), blob: expect.objectContaining({ digest: d('a') }) },
      { kind: 'empty', diffId: EMPTY_LAYER_DIFF_ID },
    ]);
    expect(await store.lookup('k2', 0)).toBeUndefined();
    // A record of an empty filesystem needs no loading at all.
    expect((await store.lookup('k0', 0))?.resultId).toBe('');
  });

  test('inline caches find blobs in the image by diff_id', async () => {
    const blobs = new Map([[d('2'), { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('b'), size: 20 }]]);
    const store = new RemoteRecordStore({ local: new MemoryCacheStore(), exists: async () => true, caches: [imported(config, blobs)] });
    const rec = await store.lookup('k2', 0);
    expect(store.remote(rec?.resultId ?? '')?.chain.map((l) => l.kind)).toEqual(['blob', 'empty', 'blob']);
  });

  test('a local record wins while its result exists; a pruned one gives way to the import', async () => {
    const local = new MemoryCacheStore();
    await local.save({ key: 'k1', output: 0, resultId: 'snap-1', recordType: 'regular', description: 'local' });
    const gone = new Set<string>();
    const store = new RemoteRecordStore({ local, exists: async (id) => !gone.has(id), caches: [imported(config)] });
    expect((await store.lookup('k1', 0))?.resultId).toBe('snap-1');
    gone.add('snap-1');
    expect(isRemoteResultId((await store.lookup('k1', 0))?.resultId ?? '')).toBe(true);
    // Saves go to the local store; invalidate withdraws the imported record for this build.
    await store.save({ key: 'k3', output: 0, resultId: 'snap-3', recordType: 'regular', description: 'new' });
    expect(local.peek('k3')?.resultId).toBe('snap-3');
    await store.invalidate('k1', 0);
    expect(await store.lookup('k1', 0)).toBeUndefined();
  });

  test('through the solver: an imported hit is loaded by the build\'s loader, a miss runs', async () => {
    const h = harness();
    const a = fakeVertex(h.world, { name: 'a' });
    const b = fakeVertex(h.world, { name: 'b', inputs: [a] });
    // Learn the cache keys the solver computes for a and b.
    const probe = await h.solve(b);
    const keyA = step(probe, 'a').cacheKey as string;
    await probe.result.release();
    const h2 = harness();
    const a2 = fakeVertex(h2.world, { name: 'a' });
    const b2 = fakeVertex(h2.world, { name: 'b', inputs: [a2] });
    const cfg: CacheConfig = {
      version: CACHE_FORMAT_VERSION,
      layers: [{ diffId: d('1'), parent: -1, blob: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('a'), size: 1 } }],
      records: [{ key: keyA, output: 0, recordType: 'regular', description: 'a', inputs: [], layer: 0 }],
    };
    const store = new RemoteRecordStore({ local: h2.store, exists: async () => true, caches: [imported(cfg)] });
    const loaded: string[] = [];
    const loader: ResultLoader = {
      load: async (id, o) => {
        if (!isRemoteResultId(id)) return h2.loader.load(id, o);
        loaded.push(id);
        const rid = h2.world.newId();
        h2.world.persisted.set(rid, 'a()');
        return h2.world.handle(rid);
      },
    };
    const res = await h2.solver.solve({ target: { vertex: b2, index: 0 }, cache: store, loader });
    expect(step(res, 'a').outcome).toBe('cached');
    expect(step(res, 'b').outcome).toBe('executed');
    expect(loaded).toEqual(['remote:0']);
    expect(h2.world.execCount('a')).toBe(0);
    await res.result.release();
    expect(h2.world.liveRefs).toBe(0);
  });
});
