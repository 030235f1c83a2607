/**
 * Lazy compression (issue 14) through the real CLI and a real registry: a build stores its own
 * layers uncompressed; `-o type=oci` and push compress them (gzip by default, `compression=zstd`,
 * `force-compression=true` for base layers too) and keep each compressed blob, so the next export
 * or push has the same bytes; zstd layers pushed to the registry are pulled and applied by another
 * data root; `du` shows the uncompressed and the compressed layer bytes.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describeIf } from '../../helpers/skip.js';
import { readTarEntries } from '../images/archives.js';
import { canRun, cannotRunWhy, RegistryWorld } from './world.js';

interface Descriptor { mediaType: string; digest: string; size: number }
interface Manifest { mediaType: string; config: Descriptor; layers: Descriptor[] }
interface Config { rootfs: { diff_ids: string[] } }
interface Du { uncompressedLayerBytes: number; compressedLayerBytes: number; contentBytes: number }

const TAR = 'application/vnd.oci.image.layer.v1.tar';
const GZIP = `${TAR}+gzip`;
const ZSTD = `${TAR}+zstd`;
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The image of an OCI archive: manifest, config and every blob by digest. */
async function readOci(file: string): Promise<{ manifest: Manifest; config: Config; blob: (d: string) => Buffer }> {
  const entries = await readTarEntries(file);
  const blob = (d: string): Buffer => {
    const b = entries.get(`blobs/sha256/${d.slice('sha256:'.length)}`);
    if (!b) throw new Error(`archive ${file} lacks blob ${d}`);
    return b;
  };
  const index = JSON.parse((entries.get('index.json') as Buffer).toString()) as { manifests: Descriptor[] };
  const manifest = JSON.parse(blob((index.manifests[0] as Descriptor).digest).toString()) as Manifest;
  const config = JSON.parse(blob(manifest.config.digest).toString()) as Config;
  return { manifest, config, blob };
}

describeIf(canRun, cannotRunWhy, 'lazy compression', () => {
  let w: RegistryWorld;
  let base: string;
  let ctx: string;
  const du = async (root: string): Promise<Du> => JSON.parse((await w.ok(root, ['du', '--format', 'json'])).stdout) as Du;
  const build = (root: string, args: readonly string[]): Promise<unknown> => w.ok(root, ['build', '--progress', 'quiet', ...args, ctx]);

  beforeAll(async () => {
    w = await RegistryWorld.create('lazycomp');
    base = await w.seedBase();
    ctx = await w.context('lazy', `FROM ${base}\nRUN echo lazy > /lazy.txt && head -c 300000 /dev/urandom > /noise\n`);
  }, 120_000);

  afterAll(async () => {
    expect(await w.mounts()).toEqual([]);
    await w.cleanup();
  }, 60_000);

  test('a build stores its own layer uncompressed (blob digest = diff_id); the base layer stays as pulled', async () => {
    const meta = w.path('meta-store.json');
    await build('store', ['-t', 'lazy:1', '--metadata-file', meta]);
    const digest = (JSON.parse(await readFile(meta, 'utf8')) as Record<string, string>)['containerimage.digest'] as string;
    const manifest = await w.storeJson<Manifest>('store', digest);
    const config = await w.storeJson<Config>('store', manifest.config.digest);
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([GZIP, TAR]);
    expect(manifest.layers[1]?.digest).toBe(config.rootfs.diff_ids[1]);
    // Nothing compressed was made for the build's own layer: only the pulled base layer is compressed.
    const d = await du('store');
    expect(d.uncompressedLayerBytes).toBeGreaterThan(300_000);
    expect(d.compressedLayerBytes).toBe(manifest.layers[0]?.size);
    expect((await w.run('store', ['cache', 'check'])).code).toBe(0);
  }, 120_000);

  test('-o type=oci gzips the layers once: a second export has the same digests and adds no blob; du counts both kinds', async () => {
    const a = w.path('a.tar');
    const b = w.path('b.tar');
    const before = await du('store');
    await build('store', ['-o', `type=oci,dest=${a}`]);
    const afterFirst = await w.blobs('store');
    await build('store', ['-o', `type=oci,dest=${b}`]);
    expect(await w.blobs('store')).toEqual(afterFirst);
    const one = await readOci(a);
    const two = await readOci(b);
    expect(one.manifest.layers.map((l) => l.mediaType)).toEqual([GZIP, GZIP]);
    expect(two.manifest.layers).toEqual(one.manifest.layers);
    // The gzip layer is the stored tar: it decodes to the diff_id.
    const own = one.manifest.layers[1] as Descriptor;
    expect(sha256(gunzipSync(one.blob(own.digest)))).toBe(one.config.rootfs.diff_ids[1]);
    const after = await du('store');
    expect(after.uncompressedLayerBytes).toBe(before.uncompressedLayerBytes);
    expect(after.compressedLayerBytes).toBe(before.compressedLayerBytes + own.size);
    const table = (await w.ok('store', ['du'])).stdout;
    expect(table).toMatch(/^Layer blobs: +\S+ uncompressed, \S+ compressed$/m);
  }, 120_000);

  test('compression=zstd: own layers zstd, the base layer kept; force-compression=true converts it too; diff_ids unchanged', async () => {
    const z = w.path('z.tar');
    await build('store', ['-o', `type=oci,dest=${z},compression=zstd,compression-level=5`]);
    const zs = await readOci(z);
    expect(zs.manifest.layers.map((l) => l.mediaType)).toEqual([GZIP, ZSTD]);
    const own = zs.blob((zs.manifest.layers[1] as Descriptor).digest);
    expect(own.subarray(0, 4)).toEqual(ZSTD_MAGIC);

    const f = w.path('f.tar');
    await build('store', ['-o', `type=oci,dest=${f},compression=zstd,force-compression=true`]);
    const forced = await readOci(f);
    expect(forced.manifest.layers.map((l) => l.mediaType)).toEqual([ZSTD, ZSTD]);
    expect(forced.config.rootfs.diff_ids).toEqual(zs.config.rootfs.diff_ids);
    expect(forced.manifest.config.digest).toBe(zs.manifest.config.digest);

    const bad = await w.run('store', ['build', '--progress', 'quiet', '-o', `type=oci,dest=${w.path('x.tar')},compression=lz4`, ctx]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unsupported compression "lz4" \(use gzip, zstd or uncompressed\)/);
    const level = await w.run('store', ['build', '--progress', 'quiet', '-o', `type=oci,dest=${w.path('x.tar')},compression=gzip,compression-level=12`, ctx]);
    expect(level.stderr).toMatch(/invalid compression-level "12" for gzip \(0-9\)/);
  }, 180_000);

  test('push with compression=zstd,force-compression=true: another root pulls the zstd layers and builds on them', async () => {
    const name = `${w.host}/lazy/zstd:1`;
    await build('store', ['-o', `type=image,name=${name},push=true,compression=zstd,force-compression=true`]);
    const pushed = await w.registryManifest<Manifest>('lazy/zstd:1');
    expect(pushed.layers.map((l) => l.mediaType)).toEqual([ZSTD, ZSTD]);

    await w.ok('puller', ['pull', name]);
    const next = await w.context('on-zstd', `FROM ${name}\nRUN cat /lazy.txt > /seen && wc -c < /noise >> /seen\n`);
    const out = await mkdtemp(join(w.dir, 'out-'));
    await w.ok('puller', ['build', '--progress', 'quiet', '-o', `type=local,dest=${out}`, next]);
    expect((await readFile(join(out, 'seen'), 'utf8')).replace(/ +/g, '')).toBe('lazy\n300000\n');
    expect((await w.run('puller', ['cache', 'check'])).code).toBe(0);
  }, 180_000);

  test('pushing again sends the same bytes: the same manifest digest, and no blob is uploaded', async () => {
    const name = `${w.host}/lazy/gzip:1`;
    await build('store', ['-t', name, '--push']);
    const first = await w.registryManifest<Manifest>('lazy/gzip:1');
    expect(first.layers.map((l) => l.mediaType)).toEqual([GZIP, GZIP]);
    const mark = w.mark();
    const r = await w.ok('store', ['push', name]);
    expect(r.stdout).toMatch(/Layer already exists/);
    const reqs = w.since(mark);
    expect(reqs.filter((q) => q.method === 'POST' || q.method === 'PATCH' || (q.method === 'PUT' && /\/blobs\//.test(q.path)))).toEqual([]);
    expect(await w.registryManifest<Manifest>('lazy/gzip:1')).toEqual(first);
    // The pushed manifest lives in the registry only: the data root holds no orphan.
    expect((await w.run('store', ['cache', 'check'])).code).toBe(0);
  }, 120_000);

  test('with SOURCE_DATE_EPOCH a push compresses the layer for the push only, and the same bytes come out each time', async () => {
    const name = `${w.host}/lazy/epoch:1`;
    const epoch = ['--build-arg', 'SOURCE_DATE_EPOCH=1700000000'];
    await build('epoch', [...epoch, '-t', name, '--push']);
    const first = await w.registryManifest<Manifest>('lazy/epoch:1');
    expect(first.layers.map((l) => l.mediaType)).toEqual([GZIP, GZIP]);
    const blobs = await w.blobs('epoch');
    expect(blobs).not.toContain((first.layers[1] as Descriptor).digest.slice('sha256:'.length));
    expect((await w.run('epoch', ['cache', 'check'])).code).toBe(0);
    await w.ok('epoch', ['push', name]);
    expect(await w.registryManifest<Manifest>('lazy/epoch:1')).toEqual(first);
  }, 120_000);
});
