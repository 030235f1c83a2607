/**
 * Authentication against real registries: htpasswd (Basic) and token auth (Bearer) behind a test
 * token service whose JWS tokens Distribution verifies. Covers good/bad credentials, anonymous
 * access, scope caching with expiry, identity tokens, and insufficient scope.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { RegistryClient } from '../../src/registry/client.js';
import { StaticCredentials } from '../../src/registry/docker-credentials.js';
import { MemoryBlobSource } from '../../src/registry/memory-source.js';
import type { Credentials } from '../../src/registry/types.js';
import type { TestRegistry, TokenServer } from '../helpers/registry.js';
import { DirBlobStore, haveRegistry, registryMissingWhy, startRegistry, startTokenServer } from '../helpers/registry.js';
import { describeIf } from '../helpers/skip.js';
import type { FaultProxy } from './fault-proxy.js';
import { startFaultProxy } from './fault-proxy.js';
import type { BuiltImage } from './image-fixture.js';
import { buildImage } from './image-fixture.js';

const clients: RegistryClient[] = [];
function clientWith(domain: string, creds: Credentials | undefined): RegistryClient {
  const c = new RegistryClient({ credentials: new StaticCredentials(creds ? { [domain]: creds } : {}), retryBaseMs: 5 });
  clients.push(c);
  return c;
}

describeIf(haveRegistry, registryMissingWhy, 'registry auth', () => {
  let sink: DirBlobStore;
  beforeEach(async () => {
    sink = await DirBlobStore.create();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    const leftovers = await sink.leftovers();
    await sink.remove();
    expect(leftovers).toEqual([]); // no partial blob survives any operation
  });

  describe('htpasswd (Basic)', () => {
    let reg: TestRegistry;
    let proxy: FaultProxy;
    beforeAll(async () => {
      reg = await startRegistry({ auth: { kind: 'htpasswd', users: { alice: 's3cret pass' } } });
      proxy = await startFaultProxy(reg.host);
    });
    afterAll(async () => {
      await proxy?.stop();
      await reg?.stop();
    });

    test('good credentials push and pull; later requests carry Basic up front', async () => {
      const src = new MemoryBlobSource();
      const img = buildImage(src, { layers: [2000, 3000] });
      const c = clientWith(proxy.host, { kind: 'basic', username: 'alice', password: 's3cret pass' });
      const ref = `${proxy.host}/private/app:1`;
      await c.push({ ref, root: img.manifest, source: src });
      const pulled = await c.pull({ ref, sink });
      expect(pulled.digest).toBe(img.manifest.digest);
      // Only the very first request was answered 401; the scheme is remembered after it.
      expect(proxy.requests.filter((r) => r.status === 401)).toHaveLength(1);
      expect(proxy.requests.slice(1).every((r) => String(r.headers.authorization).startsWith('Basic '))).toBe(true);
    });

    test('a wrong password is REGISTRY_UNAUTHORIZED naming the reference', async () => {
      const c = clientWith(proxy.host, { kind: 'basic', username: 'alice', password: 'wrong' });
      await expect(c.pull({ ref: `${proxy.host}/private/app:1`, sink })).rejects.toMatchObject({
        code: 'REGISTRY_UNAUTHORIZED',
        status: 401,
        message: `pull ${proxy.host}/private/app:1: unauthorized (HTTP 401 UNAUTHORIZED: authentication required)`,
      });
    });

    test('no credentials is REGISTRY_UNAUTHORIZED with a login hint', async () => {
      const c = clientWith(proxy.host, undefined);
      await expect(c.pull({ ref: `${proxy.host}/private/app:1`, sink })).rejects.toMatchObject({
        code: 'REGISTRY_UNAUTHORIZED',
        message: expect.stringMatching(/unauthorized .*; log in with: tsbuild login 127\.0\.0\.1:\d+$/),
      });
    });

    test('a 403 is REGISTRY_DENIED', async () => {
      proxy.addRule({ method: 'GET', path: /\/manifests\/forbidden$/, fault: { kind: 'status', status: 403 } });
      const c = clientWith(proxy.host, { kind: 'basic', username: 'alice', password: 's3cret pass' });
      await expect(c.pull({ ref: `${proxy.host}/private/app:forbidden`, sink })).rejects.toMatchObject({ code: 'REGISTRY_DENIED', status: 403 });
      proxy.clearRules();
    });
  });

  describe('token auth (Bearer)', () => {
    let tokens: TokenServer;
    let reg: TestRegistry;
    let img: BuiltImage;
    let ref: string;
    beforeAll(async () => {
      tokens = await startTokenServer({ users: { bob: 'hunter2' }, refreshTokens: { 'refresh-abc': 'bob' }, expiresIn: 1 });
      reg = await startRegistry({ auth: { kind: 'token', server: tokens } });
      const src = new MemoryBlobSource();
      img = buildImage(src, { layers: [4000] });
      ref = `${reg.host}/team/app:1`;
      const c = clientWith(reg.host, { kind: 'basic', username: 'bob', password: 'hunter2' });
      await c.push({ ref, root: img.manifest, source: src });
      c.close();
    });
    afterAll(async () => {
      await reg?.stop();
      await tokens?.stop();
    });
    beforeEach(() => {
      tokens.requests.length = 0;
    });

    test('anonymous pull gets an anonymous pull token; one token serves the whole pull', async () => {
      const c = clientWith(reg.host, undefined);
      const res = await c.pull({ ref, sink });
      expect(res.digest).toBe(img.manifest.digest);
      expect(tokens.requests).toEqual([{ method: 'GET', scopes: ['repository:team/app:pull'], subject: '', status: 200 }]);
    });

    test('tokens are cached per scope and fetched again after expires_in', async () => {
      const c = clientWith(reg.host, { kind: 'basic', username: 'bob', password: 'hunter2' });
      await c.pull({ ref, sink });
      await c.pull({ ref, sink });
      expect(tokens.requests.map((r) => r.scopes)).toEqual([['repository:team/app:pull']]);
      await c.fetchManifest({ ref: `${reg.host}/team/other:1` }).catch(() => undefined);
      expect(tokens.requests.map((r) => r.scopes)).toEqual([['repository:team/app:pull'], ['repository:team/other:pull']]);
      await new Promise((r) => setTimeout(r, 1100)); // expires_in is 1 s
      await c.pull({ ref, sink });
      expect(tokens.requests.map((r) => r.scopes[0])).toEqual(['repository:team/app:pull', 'repository:team/other:pull', 'repository:team/app:pull']);
      expect(tokens.requests.every((r) => r.subject === 'bob')).toBe(true);
    });

    test('push asks for pull,push and, when mounting, pull on the source repository', async () => {
      const src = new MemoryBlobSource();
      const other = buildImage(src, { layers: [1000] });
      const c = clientWith(reg.host, { kind: 'basic', username: 'bob', password: 'hunter2' });
      await c.push({ ref: `${reg.host}/team/base:1`, root: other.manifest, source: src });
      const res = await c.push({ ref: `${reg.host}/team/derived:1`, root: other.manifest, source: src, mountFrom: ['team/base'] });
      expect(res.blobs.map((b) => b.outcome)).toEqual(['mounted', 'mounted']);
      const scopes = tokens.requests.map((r) => r.scopes.join(' '));
      expect(scopes).toContain('repository:team/base:pull,push');
      expect(scopes).toContain('repository:team/base:pull repository:team/derived:pull,push');
    });

    test('a wrong password is refused by the token service: REGISTRY_UNAUTHORIZED', async () => {
      const c = clientWith(reg.host, { kind: 'basic', username: 'bob', password: 'nope' });
      await expect(c.pull({ ref, sink })).rejects.toMatchObject({
        code: 'REGISTRY_UNAUTHORIZED',
        message: expect.stringMatching(/the token service http:\/\/127\.0\.0\.1:\d+ refused the credentials \(HTTP 401 UNAUTHORIZED: invalid username or password\)/),
      });
    });

    test('anonymous push: the token lacks push, the registry says insufficient scope: REGISTRY_UNAUTHORIZED', async () => {
      const src = new MemoryBlobSource();
      const other = buildImage(src, { layers: [100] });
      const c = clientWith(reg.host, undefined);
      await expect(c.push({ ref: `${reg.host}/team/anon:1`, root: other.manifest, source: src })).rejects.toMatchObject({
        code: 'REGISTRY_UNAUTHORIZED',
        message: expect.stringMatching(/^push 127\.0\.0\.1:\d+\/team\/anon:1: unauthorized \(HTTP 401 UNAUTHORIZED: authentication required\); log in with/),
      });
    });

    test('an identity token is traded with the OAuth2 refresh-token grant', async () => {
      const c = clientWith(reg.host, { kind: 'identity-token', token: 'refresh-abc' });
      const res = await c.pull({ ref, sink });
      expect(res.digest).toBe(img.manifest.digest);
      expect(tokens.requests).toEqual([{ method: 'POST', scopes: ['repository:team/app:pull'], subject: 'bob', status: 200 }]);
    });

    test('checkAuth verifies credentials against /v2/', async () => {
      await expect(clientWith(reg.host, { kind: 'basic', username: 'bob', password: 'hunter2' }).checkAuth(reg.host)).resolves.toBeUndefined();
      await expect(clientWith(reg.host, { kind: 'basic', username: 'bob', password: 'x' }).checkAuth(reg.host)).rejects.toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    });
  });
});
