/**
 * Push and pull against a real Distribution 2.8 registry (through a recording proxy): byte-identical
 * round trips, skipped blobs, cross-repository mounts, chunked uploads, platform selection.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from '@jest/globals';
import { MediaType } from '../../src/oci/types.js';
import { RegistryClient } from '../../src/registry/client.js';
import { MemoryBlobSource } from '../../src/registry/memory-source.js';
import { StaticCredentials } from '../../src/registry/docker-credentials.js';
import type { TransferEvent } from '../../src/registry/types.js';
import type { TestRegistry } from '../helpers/registry.js';
import { DirBlobStore, haveRegistry, registryMissingWhy, startRegistry } from '../helpers/registry.js';
import { describeIf } from '../helpers/skip.js';
import type { FaultProxy } from './fault-proxy.js';
import { startFaultProxy } from './fault-proxy.js';
import { buildImage, buildIndex } from './image-fixture.js';

const noCreds = new StaticCredentials({});

describeIf(haveRegistry, registryMissingWhy, 'push and pull against docker-registry', () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  let sink: DirBlobStore;
  let client: RegistryClient;

  beforeAll(async () => {
    reg = await startRegistry();
    proxy = await startFaultProxy(reg.host);
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });
  beforeEach(async () => {
    sink = await DirBlobStore.create();
    client = new RegistryClient({ credentials: noCreds, retryBaseMs: 5 });
    proxy.requests.length = 0;
    proxy.clearRules();
  });
  afterEach(async () => {
    client.close();
    const leftovers = await sink.leftovers();
    await sink.remove();
    expect(leftovers).toEqual([]); // no partial blob survives any operation
  });

  test.each(['oci', 'docker'] as const)('%s image: push then pull gives byte-identical blobs and the same digest', async (flavor) => {
    const src = new MemoryBlobSource();
    const img = buildImage(src, { layers: [300_000, 10, 70_000], flavor });
    const ref = `${proxy.host}/app/roundtrip-${flavor}:v1`;
    const pushed = await client.push({ ref, root: img.manifest, source: src });
    expect(pushed.digest).toBe(img.manifest.digest);
    expect(pushed.blobs.map((b) => b.outcome)).toEqual(['uploaded', 'uploaded', 'uploaded', 'uploaded']);

    const events: TransferEvent[] = [];
    const pulled = await client.pull({ ref, sink, onProgress: (e) => events.push(e) });
    expect(pulled.digest).toBe(img.manifest.digest);
    expect(pulled.manifestBytes.equals(img.manifestBytes)).toBe(true);
    expect(pulled.manifestDescriptor.mediaType).toBe(flavor === 'oci' ? MediaType.ociManifest : MediaType.dockerManifest);
    expect(pulled.configBytes.equals(img.configBytes)).toBe(true);
    expect(pulled.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    for (const [i, l] of img.layers.entries()) expect((await sink.read(l.digest)).equals(img.layerBytes[i] as Buffer)).toBe(true);
    expect((await sink.read(img.config.digest)).equals(img.configBytes)).toBe(true);
    expect((await sink.read(img.manifest.digest)).equals(img.manifestBytes)).toBe(true);
    expect(await sink.list()).toEqual([img.config.digest, img.manifest.digest, ...img.layers.map((l) => l.digest)].sort());
    const done = events.filter((e) => e.kind === 'done').map((e) => e.digest).sort();
    expect(done).toEqual(img.layers.map((l) => l.digest).sort());
    const big = events.filter((e) => e.kind === 'progress' && e.digest === img.layers[0]?.digest);
    expect(big.at(-1)).toMatchObject({ current: 300_000, total: 300_000 });
    // The manifest request asked for every supported type.
    const accept = String(proxy.requests.find((r) => r.method === 'GET' && /\/manifests\/v1$/.test(r.path))?.headers.accept).split(', ');
    expect(accept.sort()).toEqual([MediaType.dockerManifest, MediaType.dockerManifestList, MediaType.ociIndex, MediaType.ociManifest].sort());
  });

  test('blobs the registry or the sink already has are skipped (counted requests)', async () => {
    const src = new MemoryBlobSource();
    const img = buildImage(src, { layers: [5000, 6000] });
    const ref = `${proxy.host}/app/skip:1`;
    await client.push({ ref, root: img.manifest, source: src });
    proxy.requests.length = 0;

    const again = await client.push({ ref: `${proxy.host}/app/skip:2`, root: img.manifest, source: src });
    expect(again.blobs.map((b) => b.outcome)).toEqual(['exists', 'exists', 'exists']);
    expect(proxy.count('HEAD', /\/blobs\/sha256:/)).toBe(3);
    expect(proxy.count('POST', /\/blobs\/uploads\//)).toBe(0);
    expect(proxy.count('PUT', /\/blobs\/uploads\//)).toBe(0);
    expect(proxy.count('PUT', /\/manifests\/2$/)).toBe(1);

    await client.pull({ ref, sink });
    proxy.requests.length = 0;
    const events: TransferEvent[] = [];
    await client.pull({ ref, sink, onProgress: (e) => events.push(e) });
    expect(proxy.count('GET', /\/blobs\/sha256:/)).toBe(1); // the config, which the client parses
    expect(events.filter((e) => e.kind === 'done').map((e) => e.kind === 'done' && e.outcome)).toEqual(['present', 'present']);
  });

  test('a blob known to be in another repository is mounted, not uploaded', async () => {
    const src = new MemoryBlobSource();
    const img = buildImage(src, { layers: [20_000] });
    await client.push({ ref: `${proxy.host}/team/base:1`, root: img.manifest, source: src });
    proxy.requests.length = 0;
    const res = await client.push({ ref: `${proxy.host}/team/app:1`, root: img.manifest, source: src, mountFrom: [`${proxy.host}/team/base`, 'elsewhere.example/x'] });
    expect(res.blobs.map((b) => b.outcome)).toEqual(['mounted', 'mounted']);
    const mounts = proxy.requests.filter((r) => r.method === 'POST' && r.path.includes('mount='));
    expect(mounts).toHaveLength(2);
    expect(mounts[0]?.path).toContain('from=team%2Fbase');
    expect(proxy.count('PUT', /\/blobs\/uploads\//)).toBe(0);
    expect(proxy.count('PATCH', /\/blobs\/uploads\//)).toBe(0);
    await client.pull({ ref: `${proxy.host}/team/app:1`, sink });
    expect((await sink.read(img.layers[0]?.digest as string)).equals(img.layerBytes[0] as Buffer)).toBe(true);
  });

  test('a mount the registry cannot do falls back to the upload session it opened', async () => {
    const src = new MemoryBlobSource();
    const img = buildImage(src, { layers: [3000] });
    const res = await client.push({ ref: `${proxy.host}/team/fresh:1`, root: img.manifest, source: src, mountFrom: ['team/nothing-here'] });
    expect(res.blobs.map((b) => b.outcome)).toEqual(['uploaded', 'uploaded']);
    expect(proxy.requests.filter((r) => r.method === 'POST' && r.path.includes('mount=')).map((r) => r.status)).toEqual([202, 202]);
    expect(proxy.count('POST', /\/blobs\/uploads\/$/)).toBe(0);
  });

  test('chunked upload sends PATCH chunks with contiguous Content-Range, then a closing PUT', async () => {
    const chunky = new RegistryClient({ credentials: noCreds, chunkSize: 64 * 1024, retryBaseMs: 5 });
    try {
      const src = new MemoryBlobSource();
      const img = buildImage(src, { layers: [200_000] });
      const ref = `${proxy.host}/app/chunked:1`;
      await chunky.push({ ref, root: img.manifest, source: src });
      const patches = proxy.requests.filter((r) => r.method === 'PATCH');
      expect(patches.map((r) => r.contentRange)).toEqual(['0-65535', '65536-131071', '131072-196607', '196608-199999']);
      expect(patches.every((r) => r.status === 202)).toBe(true);
      await chunky.pull({ ref, sink });
      expect((await sink.read(img.layers[0]?.digest as string)).equals(img.layerBytes[0] as Buffer)).toBe(true);
    } finally {
      chunky.close();
    }
  });

  test('chunked upload honours OCI-Chunk-Min-Length', async () => {
    proxy.addRule({ method: 'POST', path: /\/blobs\/uploads\/$/, fault: { kind: 'add-headers', headers: { 'OCI-Chunk-Min-Length': String(128 * 1024) } } });
    const chunky = new RegistryClient({ credentials: noCreds, chunkSize: 64 * 1024, retryBaseMs: 5 });
    try {
      const src = new MemoryBlobSource();
      const img = buildImage(src, { layers: [200_000] });
      await chunky.push({ ref: `${proxy.host}/app/chunkmin:1`, root: img.manifest, source: src });
      expect(proxy.requests.filter((r) => r.method === 'PATCH').map((r) => r.contentRange)).toEqual(['0-131071', '131072-199999']);
    } finally {
      chunky.close();
    }
  });

  test.each(['oci', 'docker'] as const)('%s index: the platform is selected, variants normalized, a missing one is a clear error', async (flavor) => {
    const src = new MemoryBlobSource();
    const amd = buildImage(src, { layers: [1000], platform: { os: 'linux', architecture: 'amd64' }, flavor });
    const arm = buildImage(src, { layers: [2000], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, flavor });
    const idx = buildIndex(src, [
      { image: amd, platform: { os: 'linux', architecture: 'amd64' } },
      { image: arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ], flavor);
    const ref = `${proxy.host}/multi/${flavor}:1`;
    const pushed = await client.push({ ref, root: idx.index, source: src });
    expect(pushed.digest).toBe(idx.index.digest);

    const def = await client.pull({ ref, sink });
    expect(def.digest).toBe(idx.index.digest);
    expect(def.manifestDescriptor.digest).toBe(amd.manifest.digest);
    expect(def.index?.bytes.equals(idx.indexBytes)).toBe(true);
    expect(await sink.has(idx.index.digest)).toBe(true);
    expect(await sink.has(arm.layers[0]?.digest as string)).toBe(false);

    const a = await client.pull({ ref, sink, platform: { os: 'linux', architecture: 'arm64' } });
    expect(a.manifestDescriptor.digest).toBe(arm.manifest.digest);
    expect(a.platform).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect((await sink.read(arm.layers[0]?.digest as string)).equals(arm.layerBytes[0] as Buffer)).toBe(true);

    const byDigest = await client.pull({ ref: `${proxy.host}/multi/${flavor}@${idx.index.digest}`, sink, platform: { os: 'linux', architecture: 'aarch64', variant: '8' } });
    expect(byDigest.manifestDescriptor.digest).toBe(arm.manifest.digest);

    await expect(client.pull({ ref, sink, platform: { os: 'linux', architecture: 's390x' } })).rejects.toMatchObject({
      code: 'PLATFORM_NOT_FOUND',
      message: expect.stringMatching(new RegExp(`multi/${flavor}:1: no manifest for platform linux/s390x \\(the image has: linux/amd64, linux/arm64/v8\\)`)),
    });
  });

  test('layers: none stores config and manifest only; fetchBlob gets a layer later', async () => {
    const src = new MemoryBlobSource();
    const img = buildImage(src, { layers: [1500, 2500] });
    const ref = `${proxy.host}/app/lazy:1`;
    await client.push({ ref, root: img.manifest, source: src });
    const res = await client.pull({ ref, sink, layers: 'none' });
    expect(res.layers).toEqual(img.layers);
    expect(await sink.list()).toEqual([img.config.digest, img.manifest.digest].sort());
    const second = img.layers[1];
    if (!second) throw new Error('fixture');
    expect(await client.fetchBlob({ ref, descriptor: second, sink })).toBe('downloaded');
    expect((await sink.read(second.digest)).equals(img.layerBytes[1] as Buffer)).toBe(true);
    expect(await client.fetchBlob({ ref, descriptor: second, sink })).toBe('present');
  });

  test('fetchManifest resolves a tag to its digest without storing anything', async () => {
    const src = new MemoryBlobSource();
    const img = buildImage(src, { layers: [100] });
    await client.push({ ref: `${proxy.host}/app/resolve:1`, root: img.manifest, source: src });
    const m = await client.fetchManifest({ ref: `${proxy.host}/app/resolve:1` });
    expect(m.descriptor).toEqual(img.manifest);
    expect(m.parsed.kind).toBe('image');
    expect(await sink.list()).toEqual([]);
  });
});
