/**
 * Scheme choice and TLS: 127.0.0.1, localhost and ::1 are plain HTTP; 127.0.0.2 is loopback traffic
 * but not one of those hosts, so the client speaks HTTPS to it — trusting a self-signed registry
 * only with the extra CA file — and plain HTTP only when the registry is listed as insecure.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient } from '../../src/registry/client.js';
import { StaticCredentials } from '../../src/registry/docker-credentials.js';
import { MemoryBlobSource } from '../../src/registry/memory-source.js';
import type { CertPair, TestRegistry } from '../helpers/registry.js';
import { DirBlobStore, haveRegistry, makeSelfSignedCert, registryMissingWhy, startRegistry } from '../helpers/registry.js';
import { haveIpv6Loopback } from '../helpers/requirements.mjs';
import { describeIf } from '../helpers/skip.js';
import { buildImage } from './image-fixture.js';

const noCreds = new StaticCredentials({});

describeIf(haveRegistry, registryMissingWhy, 'HTTPS and insecure registries', () => {
  let certDir: string;
  let cert: CertPair;
  let tlsReg: TestRegistry;
  let plainReg: TestRegistry;
  let sink: DirBlobStore;
  const clients: RegistryClient[] = [];
  const client = (opts: ConstructorParameters<typeof RegistryClient>[0] = {}): RegistryClient => {
    const c = new RegistryClient({ credentials: noCreds, retries: 1, retryBaseMs: 5, ...opts });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'tsbuild-tls-'));
    cert = makeSelfSignedCert(certDir, 'registry', { cn: '127.0.0.2', ip: '127.0.0.2' });
    tlsReg = await startRegistry({ host: '127.0.0.2', tls: cert });
    plainReg = await startRegistry({ host: '127.0.0.2' });
  });
  afterAll(async () => {
    await tlsReg?.stop();
    await plainReg?.stop();
    await rm(certDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    sink = await DirBlobStore.create();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await sink.remove();
  });

  test('a self-signed registry is refused without the CA: one clear error', async () => {
    const err = await client().pull({ ref: `${tlsReg.host}/app:1`, sink }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'REGISTRY_UNREACHABLE' });
    expect((err as Error).message).toMatch(new RegExp(`^pull ${tlsReg.host}/app:1: cannot reach registry ${tlsReg.host}: .*(self[- ]signed|certificate)`, 'i'));
  });

  test('with the CA file the client pushes and pulls over HTTPS', async () => {
    const c = client({ caFile: cert.certFile });
    const src = new MemoryBlobSource();
    const img = buildImage(src, { layers: [5000] });
    const ref = `${tlsReg.host}/secure/app:1`;
    await c.push({ ref, root: img.manifest, source: src });
    const res = await c.pull({ ref, sink });
    expect(res.digest).toBe(img.manifest.digest);
    expect((await sink.read(img.layers[0]?.digest as string)).equals(img.layerBytes[0] as Buffer)).toBe(true);
  });

  // The CLI's launcher keeps node from loading NODE_EXTRA_CA_CERTS at start-up
  // (src/util/extra-ca.ts); the transport's own trust list must name it instead.
  test('the CA that NODE_EXTRA_CA_CERTS names is trusted', async () => {
    const src = new MemoryBlobSource();
    const img = buildImage(src, { layers: [700] });
    const ref = `${tlsReg.host}/extra-ca/app:1`;
    await client({ caFile: cert.certFile }).push({ ref, root: img.manifest, source: src });
    const saved = process.env['NODE_EXTRA_CA_CERTS'];
    process.env['NODE_EXTRA_CA_CERTS'] = cert.certFile;
    try {
      expect((await client().pull({ ref, sink })).digest).toBe(img.manifest.digest);
    } finally {
      if (saved === undefined) delete process.env['NODE_EXTRA_CA_CERTS'];
      else process.env['NODE_EXTRA_CA_CERTS'] = saved;
    }
  });

  test('a plain-HTTP registry that is not loopback needs to be listed as insecure', async () => {
    const ref = `${plainReg.host}/app:1`;
    await expect(client().pull({ ref, sink })).rejects.toMatchObject({ code: 'REGISTRY_UNREACHABLE' });
    await expect(client({ insecureRegistries: [plainReg.host] }).pull({ ref, sink })).rejects.toMatchObject({ code: 'MANIFEST_NOT_FOUND' });
  });
});

describeIf(haveRegistry && haveIpv6Loopback(), `${registryMissingWhy}, and an IPv6 loopback`, 'a registry on [::1]', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ host: '::1' });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  test('is reached over plain HTTP with a bracketed reference', async () => {
    expect(reg.host).toMatch(/^\[::1\]:\d+$/);
    const c = new RegistryClient({ credentials: noCreds, retryBaseMs: 5 });
    const sink = await DirBlobStore.create();
    try {
      const src = new MemoryBlobSource();
      const img = buildImage(src, { layers: [700] });
      const ref = `${reg.host}/v6/app:1`;
      await c.push({ ref, root: img.manifest, source: src });
      expect((await c.pull({ ref, sink })).digest).toBe(img.manifest.digest);
    } finally {
      c.close();
      await sink.remove();
    }
  });
});
