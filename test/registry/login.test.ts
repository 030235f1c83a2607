/**
 * login/logout against real registries: credentials are verified before they are saved, saved
 * credentials are what a default client then uses, logout forgets them.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from '@jest/globals';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient } from '../../src/registry/client.js';
import { login, logout } from '../../src/registry/login.js';
import { MemoryBlobSource } from '../../src/registry/memory-source.js';
import type { TestRegistry, TokenServer } from '../helpers/registry.js';
import { DirBlobStore, haveRegistry, registryMissingWhy, startRegistry, startTokenServer } from '../helpers/registry.js';
import { describeIf } from '../helpers/skip.js';
import type { HelperFixture } from './helper-fixture.js';
import { makeHelperFixture } from './helper-fixture.js';
import { buildImage } from './image-fixture.js';

describeIf(haveRegistry, registryMissingWhy, 'login and logout', () => {
  let basicReg: TestRegistry;
  let tokens: TokenServer;
  let tokenReg: TestRegistry;
  let fx: HelperFixture;
  let sink: DirBlobStore;
  const configFile = (): string => join(fx.configDir, 'config.json');

  beforeAll(async () => {
    basicReg = await startRegistry({ auth: { kind: 'htpasswd', users: { alice: 'pw-alice' } } });
    tokens = await startTokenServer({ users: { bob: 'pw-bob' } });
    tokenReg = await startRegistry({ auth: { kind: 'token', server: tokens } });
  });
  afterAll(async () => {
    await basicReg?.stop();
    await tokenReg?.stop();
    await tokens?.stop();
  });
  beforeEach(async () => {
    fx = await makeHelperFixture();
    sink = await DirBlobStore.create();
  });
  afterEach(async () => {
    await fx.remove();
    await sink.remove();
  });

  test('login verifies, saves 0600 keeping other keys; a default client then uses it; logout forgets', async () => {
    await mkdir(fx.configDir, { recursive: true });
    await writeFile(configFile(), JSON.stringify({ auths: { 'other.example': { auth: 'eDp5' } }, detachKeys: 'ctrl-x' }));
    const res = await login({ server: basicReg.host, username: 'alice', password: 'pw-alice', env: fx.env });
    expect(res).toEqual({ domain: basicReg.host, configPath: configFile() });
    expect((await stat(configFile())).mode & 0o777).toBe(0o600);
    const cfg = JSON.parse(await readFile(configFile(), 'utf8')) as Record<string, unknown>;
    expect(cfg).toEqual({
      auths: { 'other.example': { auth: 'eDp5' }, [basicReg.host]: { auth: Buffer.from('alice:pw-alice').toString('base64') } },
      detachKeys: 'ctrl-x',
    });

    const src = new MemoryBlobSource();
    const img = buildImage(src, { layers: [1000] });
    const client = new RegistryClient({ env: fx.env, retryBaseMs: 5 });
    try {
      await client.push({ ref: `${basicReg.host}/mine/app:1`, root: img.manifest, source: src });
    } finally {
      client.close();
    }

    expect(await logout({ server: `http://${basicReg.host}/`, env: fx.env })).toBe(true);
    const after = new RegistryClient({ env: fx.env, retryBaseMs: 5 });
    try {
      await expect(after.pull({ ref: `${basicReg.host}/mine/app:1`, sink })).rejects.toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    } finally {
      after.close();
    }
    expect(await logout({ server: basicReg.host, env: fx.env })).toBe(false);
  });

  test('a wrong password fails login and writes nothing', async () => {
    await expect(login({ server: basicReg.host, username: 'alice', password: 'nope', env: fx.env })).rejects.toMatchObject({
      code: 'REGISTRY_UNAUTHORIZED',
      message: expect.stringMatching(/^login 127\.0\.0\.1:\d+: unauthorized \(HTTP 401/),
    });
    expect(existsSync(configFile())).toBe(false);
  });

  test('login to a token-auth registry verifies through the token service', async () => {
    await expect(login({ server: tokenReg.host, username: 'bob', password: 'wrong', env: fx.env })).rejects.toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    await login({ server: tokenReg.host, username: 'bob', password: 'pw-bob', env: fx.env });
    expect(tokens.requests.map((r) => [r.subject, r.status])).toEqual([
      [undefined, 401],
      ['bob', 200],
    ]);
  });

  test('with a credsStore the secret goes to the helper, and a client reads it back from there', async () => {
    await mkdir(fx.configDir, { recursive: true });
    await writeFile(configFile(), JSON.stringify({ credsStore: 'test' }));
    const res = await login({ server: basicReg.host, username: 'alice', password: 'pw-alice', env: fx.env });
    expect(res.helper).toBe('test');
    expect(await readFile(configFile(), 'utf8')).not.toContain(Buffer.from('alice:pw-alice').toString('base64'));
    const client = new RegistryClient({ env: fx.env, retryBaseMs: 5 });
    try {
      await client.checkAuth(basicReg.host);
    } finally {
      client.close();
    }
    expect(await fx.calls()).toEqual([`store ${basicReg.host}`, `get ${basicReg.host}`]);
  });

  test('login to a registry that is down is REGISTRY_UNREACHABLE', async () => {
    await expect(login({ server: '127.0.0.1:1', username: 'a', password: 'b', env: fx.env, client: { retries: 0 } })).rejects.toMatchObject({
      code: 'REGISTRY_UNREACHABLE',
      message: 'login 127.0.0.1:1: cannot reach registry 127.0.0.1:1: connection refused',
    });
  });
});
