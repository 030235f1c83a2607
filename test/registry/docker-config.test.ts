/**
 * Credentials from the docker config: every `auths` spelling, Docker Hub's key, credHelpers and
 * credsStore through a real docker-credential-test helper on PATH, and writing the file back.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dockerConfigPath } from '../../src/registry/docker-config.js';
import { DockerConfigCredentials } from '../../src/registry/docker-credentials.js';
import { normalizeServer } from '../../src/registry/login.js';
import type { HelperFixture } from './helper-fixture.js';
import { makeHelperFixture } from './helper-fixture.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('docker config credentials', () => {
  let fx: HelperFixture;
  let creds: DockerConfigCredentials;
  const writeConfig = async (cfg: unknown): Promise<void> => {
    await mkdir(fx.configDir, { recursive: true });
    await writeFile(join(fx.configDir, 'config.json'), typeof cfg === 'string' ? cfg : JSON.stringify(cfg));
  };
  const readConfig = async (): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(fx.configDir, 'config.json'), 'utf8')) as Record<string, unknown>;

  beforeEach(async () => {
    fx = await makeHelperFixture();
    creds = new DockerConfigCredentials({ env: fx.env });
  });
  afterEach(async () => {
    await fx.remove();
  });

  test('the config lives in $DOCKER_CONFIG, else $HOME/.docker', () => {
    expect(dockerConfigPath({ env: { DOCKER_CONFIG: '/x/cfg', HOME: '/home/u' } })).toBe('/x/cfg/config.json');
    expect(dockerConfigPath({ env: { HOME: '/home/u' } })).toBe('/home/u/.docker/config.json');
    expect(dockerConfigPath({ env: { HOME: '/home/u' }, configDir: '/explicit' })).toBe('/explicit/config.json');
  });

  test('no file, or no entry, is anonymous', async () => {
    await expect(creds.get('127.0.0.1:5000')).resolves.toEqual({ kind: 'anonymous' });
    await writeConfig({ auths: { 'other.example': { auth: b64('a:b') } } });
    await expect(creds.get('127.0.0.1:5000')).resolves.toEqual({ kind: 'anonymous' });
  });

  test.each([
    ['base64 auth', { auth: b64('alice:pa:ss') }, { kind: 'basic', username: 'alice', password: 'pa:ss' }],
    ['username and password', { username: 'bob', password: 'pw' }, { kind: 'basic', username: 'bob', password: 'pw' }],
    ['identitytoken', { username: 'carol', identitytoken: 'refresh-xyz' }, { kind: 'identity-token', token: 'refresh-xyz', username: 'carol' }],
    ['registrytoken', { registrytoken: 'bearer-abc' }, { kind: 'registry-token', token: 'bearer-abc' }],
  ])('auths entry with %s', async (_name, entry, want) => {
    await writeConfig({ auths: { '127.0.0.1:5000': entry } });
    await expect(creds.get('127.0.0.1:5000')).resolves.toEqual(want);
  });

  test('keys spelled with scheme and path match the host; Docker Hub uses its v1 URL key', async () => {
    await writeConfig({
      auths: {
        'http://127.0.0.1:5000/v2/': { auth: b64('u1:p1') },
        'https://index.docker.io/v1/': { auth: b64('hub:hubpw') },
        'https://ghcr.io': { auth: b64('gh:ghpw') },
      },
    });
    await expect(creds.get('127.0.0.1:5000')).resolves.toEqual({ kind: 'basic', username: 'u1', password: 'p1' });
    await expect(creds.get('docker.io')).resolves.toEqual({ kind: 'basic', username: 'hub', password: 'hubpw' });
    await expect(creds.get('ghcr.io')).resolves.toEqual({ kind: 'basic', username: 'gh', password: 'ghpw' });
    await expect(creds.get('127.0.0.1:5001')).resolves.toEqual({ kind: 'anonymous' });
  });

  test('credHelpers runs docker-credential-<name> get with the server on stdin', async () => {
    await fx.seed('127.0.0.1:5000', 'helperuser', 'helperpass');
    await writeConfig({ credHelpers: { '127.0.0.1:5000': 'test' }, auths: { '127.0.0.1:5000': { auth: b64('file:ignored') } } });
    await expect(creds.get('127.0.0.1:5000')).resolves.toEqual({ kind: 'basic', username: 'helperuser', password: 'helperpass' });
    expect(await fx.calls()).toEqual(['get 127.0.0.1:5000']);
  });

  test('a helper username of <token> means an identity token', async () => {
    await fx.seed('https://index.docker.io/v1/', '<token>', 'idtok');
    await writeConfig({ credsStore: 'test' });
    await expect(creds.get('docker.io')).resolves.toEqual({ kind: 'identity-token', token: 'idtok' });
    expect(await fx.calls()).toEqual(['get https://index.docker.io/v1/']);
  });

  test('credsStore applies to every registry; "credentials not found" falls back to auths', async () => {
    await writeConfig({ credsStore: 'test', auths: { 'reg.example': { auth: b64('x:y') } } });
    await expect(creds.get('reg.example')).resolves.toEqual({ kind: 'basic', username: 'x', password: 'y' });
    await expect(creds.get('none.example')).resolves.toEqual({ kind: 'anonymous' });
    expect(await fx.calls()).toEqual(['get reg.example', 'get none.example']);
  });

  test('a helper that is not installed is CREDENTIAL_HELPER', async () => {
    await writeConfig({ credHelpers: { 'reg.example': 'nonexistent' } });
    await expect(creds.get('reg.example')).rejects.toMatchObject({
      code: 'CREDENTIAL_HELPER',
      message: 'credential helper docker-credential-nonexistent not found in PATH',
    });
  });

  test('a helper that fails is CREDENTIAL_HELPER with its message', async () => {
    await writeConfig({ credHelpers: { 'broken.example': 'test' } });
    await expect(creds.get('broken.example')).rejects.toMatchObject({
      code: 'CREDENTIAL_HELPER',
      message: 'credential helper docker-credential-test get failed: error getting credentials - err: exit status 1, out: keychain is locked',
    });
  });

  test('malformed config.json is DOCKER_CONFIG_INVALID naming the file', async () => {
    await writeConfig('{"auths": {');
    await expect(creds.get('reg.example')).rejects.toMatchObject({
      code: 'DOCKER_CONFIG_INVALID',
      message: expect.stringMatching(new RegExp(`^${join(fx.configDir, 'config.json')}: docker config is not valid JSON`)),
    });
    await writeConfig({ auths: { 'reg.example': { auth: b64('no-colon') } } });
    await expect(creds.get('reg.example')).rejects.toMatchObject({ code: 'DOCKER_CONFIG_INVALID', message: expect.stringContaining('"auth" is not base64 of username:password') });
  });

  test('store writes mode 0600, keeps other keys, replaces other spellings; erase removes', async () => {
    await writeConfig({ auths: { 'http://reg.example/v1/': { auth: b64('old:old') }, 'other.example': { auth: b64('o:o') } }, proxies: { default: { httpProxy: 'http://p:3128' } }, currentContext: 'ctx' });
    await creds.store('reg.example', 'new', 'secret');
    const path = join(fx.configDir, 'config.json');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const cfg = await readConfig();
    expect(cfg).toEqual({
      auths: { 'reg.example': { auth: b64('new:secret') }, 'other.example': { auth: b64('o:o') } },
      proxies: { default: { httpProxy: 'http://p:3128' } },
      currentContext: 'ctx',
    });
    await expect(creds.get('reg.example')).resolves.toEqual({ kind: 'basic', username: 'new', password: 'secret' });
    expect(await creds.erase('reg.example')).toBe(true);
    expect((await readConfig())['auths']).toEqual({ 'other.example': { auth: b64('o:o') } });
    expect(await creds.erase('reg.example')).toBe(false);
  });

  test('store creates the directory and file when missing', async () => {
    await creds.store('docker.io', 'hubuser', 'pw');
    expect(await readConfig()).toEqual({ auths: { 'https://index.docker.io/v1/': { auth: b64('hubuser:pw') } } });
    expect((await stat(fx.configDir)).mode & 0o777).toBe(0o700);
  });

  test('with a credsStore, store and erase go through the helper and no secret is written', async () => {
    await writeConfig({ credsStore: 'test' });
    const saved = await creds.store('reg.example', 'u', 'topsecret');
    expect(saved.helper).toBe('test');
    expect(await readFile(join(fx.configDir, 'config.json'), 'utf8')).not.toContain(b64('u:topsecret'));
    await expect(creds.get('reg.example')).resolves.toEqual({ kind: 'basic', username: 'u', password: 'topsecret' });
    await creds.erase('reg.example');
    await expect(creds.get('reg.example')).resolves.toEqual({ kind: 'anonymous' });
    expect(await fx.calls()).toEqual(['store reg.example', 'get reg.example', 'erase reg.example', 'get reg.example']);
  });

  test.each([
    [undefined, 'docker.io'],
    ['', 'docker.io'],
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['127.0.0.1:5000', '127.0.0.1:5000'],
    ['http://localhost:5000/v2/', 'localhost:5000'],
  ])('login server %p is registry %s', (server, want) => {
    expect(normalizeServer(server)).toBe(want);
  });

  test('a bad login server is INVALID_REGISTRY', () => {
    expect(() => normalizeServer('bad host')).toThrow(expect.objectContaining({ code: 'INVALID_REGISTRY' }));
  });
});
