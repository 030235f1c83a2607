/**
 * Every fault gives one clear RegistryError naming the reference, and no partial blob is kept:
 * registry down, 404, 5xx (retried), connection resets (resumed with Range), truncated and corrupt
 * blobs, malformed manifests, cancellation. Faults come from a proxy in front of a real registry.
 */
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { RegistryClient } from '../../src/registry/client.js';
import { StaticCredentials } from '../../src/registry/docker-credentials.js';
import { RegistryError } from '../../src/registry/errors.js';
import { MemoryBlobSource } from '../../src/registry/memory-source.js';
import { CancelledError } from '../../src/util/errors.js';
import type { TestRegistry } from '../helpers/registry.js';
import { DirBlobStore, freePort, haveRegistry, registryMissingWhy, startRegistry } from '../helpers/registry.js';
import { describeIf } from '../helpers/skip.js';
import type { FaultProxy } from './fault-proxy.js';
import { startFaultProxy } from './fault-proxy.js';
import type { BuiltImage } from './image-fixture.js';
import { buildImage } from './image-fixture.js';

const noCreds = new StaticCredentials({});

describe('a registry that is not there', () => {
  test('connection refused is REGISTRY_UNREACHABLE naming the reference, after the retries', async () => {
    const port = await freePort();
    const client = new RegistryClient({ credentials: noCreds, retries: 2, retryBaseMs: 5 });
    const sink = await DirBlobStore.create();
    try {
      const err = await client.pull({ ref: `127.0.0.1:${port}/app:1`, sink }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RegistryError);
      expect(err).toMatchObject({ code: 'REGISTRY_UNREACHABLE' });
      expect((err as Error).message).toBe(`pull 127.0.0.1:${port}/app:1: cannot reach registry 127.0.0.1:${port}: connection refused`);
    } finally {
      client.close();
      await sink.remove();
    }
  });
});

describeIf(haveRegistry, registryMissingWhy, 'faults between the client and a real registry', () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  let sink: DirBlobStore;
  let client: RegistryClient;
  let img: BuiltImage;
  let ref: string;
  let big: string;

  beforeAll(async () => {
    reg = await startRegistry();
    proxy = await startFaultProxy(reg.host);
    const src = new MemoryBlobSource();
    img = buildImage(src, { layers: [400_000, 3000] });
    big = img.layers[0]?.digest as string;
    ref = `${proxy.host}/faults/app:1`;
    const c = new RegistryClient({ credentials: noCreds });
    await c.push({ ref, root: img.manifest, source: src });
    c.close();
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });
  beforeEach(async () => {
    sink = await DirBlobStore.create();
    client = new RegistryClient({ credentials: noCreds, retries: 3, retryBaseMs: 5 });
    proxy.requests.length = 0;
    proxy.clearRules();
  });
  afterEach(async () => {
    client.close();
    const leftovers = await sink.leftovers();
    await sink.remove();
    expect(leftovers).toEqual([]); // no partial blob survives any operation
  });

  const blobPath = (d: string): RegExp => new RegExp(`/blobs/${d}$`);

  test('an unknown tag is MANIFEST_NOT_FOUND', async () => {
    await expect(client.pull({ ref: `${proxy.host}/faults/app:nope`, sink })).rejects.toMatchObject({
      code: 'MANIFEST_NOT_FOUND',
      status: 404,
      message: `pull ${proxy.host}/faults/app:nope: manifest for ${proxy.host}/faults/app:nope not found (HTTP 404 MANIFEST_UNKNOWN: manifest unknown)`,
    });
  });

  test('an unknown repository is MANIFEST_NOT_FOUND too', async () => {
    await expect(client.pull({ ref: `${proxy.host}/faults/none`, sink })).rejects.toMatchObject({ code: 'MANIFEST_NOT_FOUND' });
  });

  test('5xx answers are retried with backoff', async () => {
    proxy.addRule({ method: 'GET', path: /\/manifests\/1$/, fault: { kind: 'status', status: 503 }, times: 2 });
    proxy.addRule({ method: 'GET', path: blobPath(big), fault: { kind: 'status', status: 500 }, times: 1 });
    const res = await client.pull({ ref, sink });
    expect(res.digest).toBe(img.manifest.digest);
    expect(proxy.requests.filter((r) => r.method === 'GET' && /\/manifests\/1$/.test(r.path)).map((r) => r.status)).toEqual([503, 503, 200]);
    expect(proxy.requests.filter((r) => r.method === 'GET' && blobPath(big).test(r.path)).map((r) => r.status)).toEqual([500, 200]);
  });

  test('5xx that persists is REGISTRY_SERVER_ERROR after 1 + retries attempts', async () => {
    proxy.addRule({ method: 'GET', path: /\/manifests\/1$/, fault: { kind: 'status', status: 502 } });
    await expect(client.pull({ ref, sink })).rejects.toMatchObject({
      code: 'REGISTRY_SERVER_ERROR',
      message: `pull ${ref}: registry ${proxy.host} failed: HTTP 502 UNAVAILABLE: injected 502 (after 4 attempts)`,
    });
    expect(proxy.count('GET', /\/manifests\/1$/)).toBe(4);
  });

  test('a connection reset mid-blob is resumed with a Range request', async () => {
    proxy.addRule({ method: 'GET', path: blobPath(big), fault: { kind: 'reset-after', bytes: 150_000 }, times: 1 });
    await client.pull({ ref, sink });
    const gets = proxy.requests.filter((r) => r.method === 'GET' && blobPath(big).test(r.path));
    expect(gets).toHaveLength(2);
    expect(gets[0]?.range).toBeUndefined();
    expect(gets[1]?.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/=(\d+)-/.exec(gets[1]?.range ?? '')?.[1])).toBeGreaterThan(0);
    expect(gets[1]?.status).toBe(206);
    expect((await sink.read(big)).equals(img.layerBytes[0] as Buffer)).toBe(true);
  });

  test('repeated resets keep resuming while bytes arrive', async () => {
    proxy.addRule({ method: 'GET', path: blobPath(big), fault: { kind: 'reset-after', bytes: 60_000 }, times: 5 });
    await client.pull({ ref, sink });
    const ranges = proxy.requests.filter((r) => r.method === 'GET' && blobPath(big).test(r.path)).map((r) => r.range);
    expect(ranges.length).toBe(6);
    expect((await sink.read(big)).equals(img.layerBytes[0] as Buffer)).toBe(true);
  });

  test('a dropped connection on the manifest is retried', async () => {
    proxy.addRule({ method: 'GET', path: /\/manifests\/1$/, fault: { kind: 'drop' }, times: 1 });
    await client.pull({ ref, sink });
    expect(proxy.count('GET', /\/manifests\/1$/)).toBe(2);
  });

  test('a blob that stays truncated is BLOB_TRUNCATED and nothing of it is kept', async () => {
    proxy.addRule({ method: 'GET', path: blobPath(big), fault: { kind: 'truncate', bytes: 1000 } });
    const err = await client.pull({ ref, sink }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BLOB_TRUNCATED' });
    expect((err as Error).message).toMatch(new RegExp(`^pull ${ref.replace(/[.]/g, '\\.')}: blob ${big} truncated: received 1000 of 400000 bytes`));
    expect(await sink.has(big)).toBe(false);
    expect(sink.aborts).toBeGreaterThan(0);
    expect(await sink.has(img.manifest.digest)).toBe(false);
  });

  test('corrupt blob content is DIGEST_MISMATCH and nothing of it is kept', async () => {
    proxy.addRule({ method: 'GET', path: blobPath(big), fault: { kind: 'corrupt' } });
    const err = await client.pull({ ref, sink }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect((err as Error).message).toMatch(new RegExp(`^pull .*faults/app:1: digest mismatch for blob ${big}: the content hashes to sha256:[0-9a-f]{64}$`));
    expect(await sink.has(big)).toBe(false);
    expect(await sink.has(img.manifest.digest)).toBe(false);
  });

  test('a corrupt config is DIGEST_MISMATCH before any layer is fetched', async () => {
    proxy.addRule({ method: 'GET', path: blobPath(img.config.digest), fault: { kind: 'corrupt' } });
    await expect(client.pull({ ref, sink })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(proxy.count('GET', blobPath(big))).toBe(0);
    expect(await sink.list()).toEqual([]);
  });

  test('a manifest whose bytes do not match the pinned digest is DIGEST_MISMATCH', async () => {
    proxy.addRule({ method: 'GET', path: /\/manifests\/sha256:/, fault: { kind: 'corrupt' } });
    await expect(client.pull({ ref: `${proxy.host}/faults/app@${img.manifest.digest}`, sink })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  test('a manifest that differs from the registry-announced digest is DIGEST_MISMATCH', async () => {
    proxy.addRule({ method: 'GET', path: /\/manifests\/1$/, fault: { kind: 'corrupt' } });
    await expect(client.pull({ ref, sink })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH', message: expect.stringContaining('the registry says the manifest is') });
  });

  test('malformed manifest JSON is MANIFEST_INVALID', async () => {
    proxy.addRule({ method: 'GET', path: /\/manifests\/1$/, fault: { kind: 'replace-body', body: Buffer.from('{"schemaVersion": 2, "layers": [tru') } });
    await expect(client.pull({ ref, sink })).rejects.toMatchObject({ code: 'MANIFEST_INVALID', message: expect.stringMatching(/^pull .*faults\/app:1: malformed manifest: not JSON/) });
  });

  test('a manifest with a bad descriptor is MANIFEST_INVALID naming the field', async () => {
    const bad = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'x', digest: 'sha256:abc', size: 1 }, layers: [] });
    proxy.addRule({ method: 'GET', path: /\/manifests\/1$/, fault: { kind: 'replace-body', body: Buffer.from(bad) } });
    await expect(client.pull({ ref, sink })).rejects.toMatchObject({ code: 'MANIFEST_INVALID', message: expect.stringContaining('config.digest "sha256:abc" is not a valid digest') });
  });

  test('a schema 1 manifest is MANIFEST_UNSUPPORTED', async () => {
    proxy.addRule({ method: 'GET', path: /\/manifests\/1$/, fault: { kind: 'replace-body', body: Buffer.from('{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[]}') } });
    await expect(client.pull({ ref, sink })).rejects.toMatchObject({ code: 'MANIFEST_UNSUPPORTED' });
  });

  test('aborting mid-download cancels every transfer and keeps no partial blob', async () => {
    const ac = new AbortController();
    proxy.addRule({ method: 'GET', path: blobPath(big), fault: { kind: 'reset-after', bytes: 100_000 } });
    const err = await client
      .pull({
        ref,
        sink,
        signal: ac.signal,
        onProgress: (e) => {
          if (e.kind === 'progress' && e.digest === big && e.current > 0) ac.abort(new Error('user pressed ^C'));
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(await sink.has(big)).toBe(false);
  });

  test('an already aborted signal fails before any request', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(client.pull({ ref, sink, signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
    expect(proxy.requests).toHaveLength(0);
  });

  test('push retries an upload that the registry fails with 5xx', async () => {
    const src = new MemoryBlobSource();
    const other = buildImage(src, { layers: [5000] });
    proxy.addRule({ method: 'PUT', path: /\/blobs\/uploads\//, fault: { kind: 'status', status: 503 }, times: 1 });
    const res = await client.push({ ref: `${proxy.host}/faults/pushed:1`, root: other.manifest, source: src });
    expect(res.digest).toBe(other.manifest.digest);
    expect(proxy.requests.filter((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/')).map((r) => r.status)).toContain(503);
  });

  test('push of a source blob whose bytes do not match is DIGEST_MISMATCH from the registry', async () => {
    const src = new MemoryBlobSource();
    const other = buildImage(src, { layers: [5000] });
    const layer = other.layers[0];
    if (!layer) throw new Error('fixture');
    // A source serving other bytes (of the right length) under the layer's digest.
    const lying = { open: (digest: string) => (digest === layer.digest ? Promise.resolve(Readable.from([Buffer.alloc(5000, 1)])) : src.open(digest)) };
    const err = await client.push({ ref: `${proxy.host}/faults/lying:1`, root: other.manifest, source: lying }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DIGEST_MISMATCH', status: 400 });
    expect((err as Error).message).toMatch(new RegExp(`^push ${proxy.host}/faults/lying:1: the registry rejected blob ${layer.digest}: its content does not match the digest`));
    expect(proxy.count('PUT', /\/manifests\//)).toBe(0);
  });
});
