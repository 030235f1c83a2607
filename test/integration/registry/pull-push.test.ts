/**
 * Pull, push, login and FROM through the real CLI against a real registry: pushes skip blobs the
 * registry has (HEAD) and mount blobs of another repository; pulls never download a layer the
 * content store holds; FROM pulls a missing base image, and `--pull` re-resolves a tag (downloading
 * only when it moved); `build --push` and `push=true` push the result; login verifies credentials
 * before saving them in the docker config, logout removes them.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdtemp, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeIf } from '../../helpers/skip.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { canRun, cannotRunWhy, expectOneError, RegistryWorld } from './world.js';

interface Manifest { layers: { digest: string; size: number }[]; config: { digest: string } }

describeIf(canRun, cannotRunWhy, 'pull and push through the CLI', () => {
  let w: RegistryWorld;
  let base: string;

  beforeAll(async () => {
    w = await RegistryWorld.create('pullpush');
    base = await w.seedBase();
  }, 120_000);

  afterAll(async () => {
    expect(await w.mounts()).toEqual([]);
    await w.cleanup();
  }, 60_000);

  test('a second push of the same image uploads nothing: every blob is found with HEAD', async () => {
    const mark = w.mark();
    const r = await w.ok('seed', ['push', base]);
    expect(r.stdout).toMatch(/^[0-9a-f]{12}: Layer already exists\n1: digest: sha256:[0-9a-f]{64} size: \d+\n$/);
    const reqs = w.since(mark);
    expect(reqs.filter((q) => q.method === 'HEAD' && /\/blobs\//.test(q.path)).length).toBeGreaterThan(0);
    expect(reqs.filter((q) => q.method === 'POST' || q.method === 'PATCH' || (q.method === 'PUT' && /\/blobs\//.test(q.path)))).toEqual([]);
  }, 60_000);

  test('pushing to another repository of the same registry mounts the layer instead of uploading it', async () => {
    const other = `${w.host}/other/busybox:2`;
    await w.ok('seed', ['tag', base, other]);
    const mark = w.mark();
    const r = await w.ok('seed', ['push', other]);
    expect(r.stdout).toMatch(/: Mounted from another repository\n/);
    const manifest = await w.registryManifest<Manifest>('other/busybox:2');
    const layer = manifest.layers[0]?.digest as string;
    const reqs = w.since(mark);
    const mounts = reqs.filter((q) => q.method === 'POST' && q.path.includes('mount='));
    expect(mounts.map((q) => decodeURIComponent(q.path))).toEqual([expect.stringMatching(new RegExp(`mount=${layer}&from=base/busybox`))]);
    expect(mounts[0]?.status).toBe(201);
    // The layer's bytes never travelled: no upload was finished for it.
    expect(reqs.filter((q) => q.method === 'PUT' && q.path.includes(`digest=${encodeURIComponent(layer)}`))).toEqual([]);
  }, 60_000);

  test('pull into an empty root stores the image; pulling again downloads no layer', async () => {
    const r = await w.ok('p1', ['pull', base]);
    expect(r.stdout).toMatch(/^[0-9a-f]{12}: Pull complete\nDigest: sha256:[0-9a-f]{64}\nStatus: Downloaded newer image for .*\/base\/busybox:1\n/);
    const images = await w.ok('p1', ['images', '--format', 'json']);
    expect(images.stdout).toContain('"Repository":"' + `${w.host}/base/busybox"`);
    expect((await w.run('p1', ['cache', 'check'])).code).toBe(0);

    const mark = w.mark();
    const again = await w.ok('p1', ['pull', base]);
    expect(again.stdout).toMatch(/: Already exists\n/);
    expect(again.stdout).toMatch(/Status: Image is up to date for /);
    // The manifest and the (small) config are read again to compare; no layer is downloaded.
    const layers = (await w.registryManifest<Manifest>('base/busybox:1')).layers.map((l) => l.digest);
    expect(w.blobGets(mark).filter((d) => layers.includes(d))).toEqual([]);
  }, 60_000);

  test('a layer the content store already holds is not downloaded for another image', async () => {
    const mark = w.mark();
    const r = await w.ok('p1', ['pull', `${w.host}/other/busybox:2`]);
    expect(r.stdout).toMatch(/: Already exists\n/);
    // Only the config (a different repository's copy of the same blob is fine) — no layer.
    const layer = (await w.registryManifest<Manifest>('other/busybox:2')).layers[0]?.digest;
    expect(w.blobGets(mark)).not.toContain(layer);
  }, 60_000);

  test('FROM pulls a missing base image; its layers are downloaded when the FROM step runs', async () => {
    const ctx = await w.context('auto', `FROM ${base}\nRUN echo auto > /auto.txt\n`);
    const out = await mkdtemp(join(w.dir, 'out-'));
    const r = await w.ok('b1', ['build', '--progress', 'plain', '-o', `type=local,dest=${out}`, ctx]);
    expect(r.stderr).toMatch(/pulling sha256:[0-9a-f]{12}/);
    expect(await readFile(join(out, 'auto.txt'), 'utf8')).toBe('auto\n');
    // The base image is now in the store, as after docker's implicit pull.
    expect((await w.ok('b1', ['images', '--format', 'json'])).stdout).toContain(`"Repository":"${w.host}/base/busybox"`);
    expect(await w.ingest('b1')).toEqual([]);
  }, 120_000);

  test('--pull re-resolves the tag: a moved tag is pulled, an unchanged one is not downloaded again', async () => {
    const moving = `${w.host}/base/moving:1`;
    const publish = async (marker: string): Promise<void> => {
      const ctx = await w.context(`marker-${marker}`, `FROM ${base}\nRUN echo ${marker} > /marker\n`);
      await w.ok('seed', ['build', '--progress', 'quiet', '-t', moving, '--push', ctx]);
    };
    const seen = async (extra: readonly string[]): Promise<string> => {
      const ctx = await w.context('reader', `FROM ${moving}\nRUN cat /marker > /seen\n`);
      const out = await mkdtemp(join(w.dir, 'out-'));
      await w.ok('b2', ['build', '--progress', 'quiet', ...extra, '-o', `type=local,dest=${out}`, ctx]);
      return readFile(join(out, 'seen'), 'utf8');
    };
    await publish('v1');
    expect(await seen([])).toBe('v1\n');
    await publish('v2');
    // Without --pull the local copy is used and the registry is not asked.
    let mark = w.mark();
    expect(await seen([])).toBe('v1\n');
    expect(w.since(mark).filter((q) => q.path.includes('/base/moving/'))).toEqual([]);
    expect(await seen(['--pull'])).toBe('v2\n');
    mark = w.mark();
    expect(await seen(['--pull'])).toBe('v2\n');
    expect(w.since(mark).some((q) => q.path.includes('/base/moving/manifests/'))).toBe(true);
    const layers = (await w.registryManifest<Manifest>('base/moving:1')).layers.map((l) => l.digest);
    expect(w.blobGets(mark).filter((d) => layers.includes(d))).toEqual([]);
  }, 240_000);

  test('build --push and -o type=image,push=true push the result; another root pulls the same manifest', async () => {
    const ctx = await w.context('pushed', `FROM ${base}\nRUN echo pushed > /p.txt\n`);
    // The pushed manifest's digest is `containerimage.digest` (--iidfile holds the config digest).
    const meta = w.path('meta-pushed.json');
    const manifestOf = async (): Promise<string> => (JSON.parse(await readFile(meta, 'utf8')) as Record<string, string>)['containerimage.digest'] as string;
    const name = `${w.host}/app/pushed:1`;
    await w.ok('seed', ['build', '--progress', 'quiet', '-t', name, '--push', '--metadata-file', meta, ctx]);
    expect((await w.ok('p2', ['pull', name])).stdout).toContain(`Digest: ${await manifestOf()}\n`);

    const name2 = `${w.host}/app/pushed:2`;
    await w.ok('seed', ['build', '--progress', 'quiet', '-o', `type=image,name=${name2},push=true`, '--metadata-file', meta, ctx]);
    expect((await w.ok('p2', ['pull', name2])).stdout).toContain(`Digest: ${await manifestOf()}\n`);
  }, 120_000);

  test('push needs a name, and an unknown local image is one clear error', async () => {
    const ctx = await w.context('noname', `FROM ${base}\n`);
    expectOneError(await w.run('seed', ['build', '--push', ctx]), /pushing needs an image name: add -t NAME/);
    expectOneError(await w.run('seed', ['push', `${w.host}/nope/nothing:1`]), /An image does not exist locally with the tag: .*\/nope\/nothing:1/);
  }, 60_000);
});

describeIf(canRun, cannotRunWhy, 'login and logout through the CLI', () => {
  let w: RegistryWorld;
  let secured: TestRegistry;
  let dockerConfig: string;

  beforeAll(async () => {
    w = await RegistryWorld.create('login');
    secured = await startRegistry({ auth: { kind: 'htpasswd', users: { alice: 's3cret' } } });
    dockerConfig = await mkdtemp(join(w.dir, 'docker-config-'));
    await w.importBusybox('seed', `${secured.host}/team/busybox:1`);
  }, 120_000);

  afterAll(async () => {
    await secured.stop();
    await w.cleanup();
  }, 60_000);

  test('wrong credentials are refused and nothing is saved; right ones are saved; logout removes them', async () => {
    const env = { DOCKER_CONFIG: dockerConfig };
    const configFile = join(dockerConfig, 'config.json');
    const bad = await w.run('seed', ['login', '-u', 'alice', '--password-stdin', secured.host], { env, input: 'wrong\n' });
    expectOneError(bad, new RegExp(`${secured.host.replace(/\./g, '\\.')}.*(unauthorized|401)`, 'i'));
    expect(existsSync(configFile)).toBe(false);

    const push = await w.run('seed', ['push', `${secured.host}/team/busybox:1`], { env });
    expectOneError(push, /unauthorized|authentication required|401/i);

    const good = await w.ok('seed', ['login', '-u', 'alice', '--password-stdin', secured.host], { env, input: 's3cret\n' });
    expect(good.stdout).toMatch(/^Login Succeeded/);
    const saved = JSON.parse(await readFile(configFile, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(saved.auths[secured.host]?.auth ?? '', 'base64').toString()).toBe('alice:s3cret');

    await w.ok('seed', ['push', `${secured.host}/team/busybox:1`], { env });
    await w.ok('other', ['pull', `${secured.host}/team/busybox:1`], { env });

    expect((await w.ok('seed', ['logout', secured.host], { env })).stdout).toBe(`Removing login credentials for ${secured.host}\n`);
    expectOneError(await w.run('fresh', ['pull', `${secured.host}/team/busybox:1`], { env }), /unauthorized|authentication required|401/i);
  }, 120_000);
});
