/**
 * Multi-platform builds through the real CLI, runc and a real registry: the cross-compile pattern
 * (`FROM --platform=$BUILDPLATFORM … AS build` + `ARG TARGETARCH`, copied into a `FROM scratch`
 * stage) built for linux/amd64 and linux/arm64. The build stage runs natively; a step that does not
 * depend on the target runs once for both, the TARGETARCH step once per platform. The result is an
 * image index in the store, an OCI archive with that index, one folder per platform for local/tar,
 * a pushed index that pulls back per platform; type=docker is refused, as buildx refuses it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeIf } from '../../helpers/skip.js';
import { startDaemon } from '../../helpers/daemon.js';
import { arm64Why, haveArm64Busybox, haveArm64Emulation, makeArm64BusyboxTar } from '../../helpers/busybox-arm64.js';
import { validateOci } from '../../helpers/oci-validate.js';
import { canRun, cannotRunWhy, expectOneError, RegistryWorld } from '../registry/world.js';

const run = promisify(execFile);

const DOCKERFILE = `FROM --platform=$BUILDPLATFORM busybox AS build
RUN echo common > /common
ARG TARGETARCH
RUN echo $TARGETARCH > /out
FROM scratch
COPY --from=build /common /common
COPY --from=build /out /arch
`;

interface Desc { mediaType: string; digest: string; size: number; platform?: { os: string; architecture: string } }
interface Index { mediaType: string; manifests: Desc[] }
interface Manifest { config: Desc; layers: Desc[] }
interface Step { name: string; outcome: string }

const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describeIf(canRun, cannotRunWhy, 'multi-platform builds (--platform linux/amd64,linux/arm64)', () => {
  let w: RegistryWorld;
  let ctx: string;

  beforeAll(async () => {
    w = await RegistryWorld.create('multiplat');
    await w.importBusybox('r');
    ctx = await w.context('cross', DOCKERFILE);
  }, 120_000);

  afterAll(async () => {
    expect(await w.mounts()).toEqual([]);
    await w.cleanup();
  }, 60_000);

  test('the build stage runs natively, a target-independent step once; the store holds an index of two images', async () => {
    const meta = w.path('meta.json');
    const r = await w.ok('r', ['build', '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64', '-t', 'cross:1', '--metadata-file', meta, ctx]);
    const m = JSON.parse(await readFile(meta, 'utf8')) as { 'containerimage.digest': string; 'tsbuild.steps': Step[] };
    const steps = m['tsbuild.steps'];
    const executed = (re: RegExp): number => steps.filter((s) => re.test(s.name) && s.outcome === 'executed').length;
    expect(executed(/RUN echo common/)).toBe(1);
    // The TARGETARCH step differs per target (its value is in the command): once per platform.
    expect(executed(/RUN echo amd64 > \/out/)).toBe(1);
    expect(executed(/RUN echo arm64 > \/out/)).toBe(1);
    // The plain progress shows the shared step once.
    expect(r.stderr.split('\n').filter((l) => /^#\d+ \[.*\] RUN echo common/.test(l)).length).toBe(1);
    // Step names carry the stage's platform, as BuildKit names them for several platforms: the
    // build stage runs on the build platform for both targets.
    expect(r.stderr).toMatch(/^#\d+ \[linux\/amd64 build 2\/3\] RUN echo common/m);
    expect(r.stderr).toMatch(/^#\d+ \[linux\/amd64 build 3\/3\] RUN echo arm64 > \/out/m);
    expect(r.stderr).toMatch(/^#\d+ \[linux\/arm64 stage-1 2\/2\] COPY --from=build \/out \/arch/m);

    const digest = w.storedManifests('r').get('docker.io/library/cross:1') as string;
    expect(digest).toBe(m['containerimage.digest']);
    const index = await w.storeJson<Index>('r', digest);
    expect(index.mediaType).toBe(INDEX);
    expect(index.manifests.map((d) => `${d.platform?.os}/${d.platform?.architecture}`)).toEqual(['linux/amd64', 'linux/arm64']);
    for (const d of index.manifests) {
      const man = await w.storeJson<Manifest>('r', d.digest);
      const config = await w.storeJson<{ architecture: string; os: string }>('r', man.config.digest);
      expect(config.architecture).toBe(d.platform?.architecture);
    }
    expect((await w.run('r', ['cache', 'check'])).code).toBe(0);

    // images and inspect show the platforms.
    const rows = (await w.ok('r', ['images', '--format', 'json', 'cross:1'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { Platforms?: string });
    expect(rows.map((row) => row.Platforms)).toEqual(['linux/amd64,linux/arm64']);
    expect((await w.ok('r', ['images', 'cross'])).stdout).toMatch(/PLATFORMS\n.*linux\/amd64,linux\/arm64\n/);
    const inspected = JSON.parse((await w.ok('r', ['inspect', 'cross:1'])).stdout) as { Platforms?: string[]; Architecture: string }[];
    expect(inspected[0]).toMatchObject({ Platforms: ['linux/amd64', 'linux/arm64'], Architecture: 'amd64' });
  }, 300_000);

  test('type=local writes one folder per platform, each with its own /arch; a rebuild is all cached', async () => {
    const dir = await mkdtemp(w.path('local-'));
    const r = await w.ok('r', ['build', '--progress', 'plain', '--platform', 'linux/amd64', '--platform', 'linux/arm64', '-o', `type=local,dest=${dir}`, ctx]);
    expect(r.stderr).not.toMatch(/RUN echo.*\n#\d+ DONE/);
    expect(await readFile(join(dir, 'linux_amd64', 'arch'), 'utf8')).toBe('amd64\n');
    expect(await readFile(join(dir, 'linux_arm64', 'arch'), 'utf8')).toBe('arm64\n');
    expect(await readFile(join(dir, 'linux_arm64', 'common'), 'utf8')).toBe('common\n');
  }, 300_000);

  test('type=tar holds the same folders', async () => {
    const tar = w.path('fs.tar');
    await w.ok('r', ['build', '--progress', 'quiet', '--platform', 'linux/amd64,linux/arm64', '-o', `type=tar,dest=${tar}`, ctx]);
    const { stdout } = await run('tar', ['-tf', tar]);
    expect(stdout.split('\n')).toEqual(expect.arrayContaining(['./linux_amd64/arch', './linux_arm64/arch']));
    expect((await run('tar', ['-xOf', tar, './linux_arm64/arch'])).stdout).toBe('arm64\n');
  }, 300_000);

  test('type=oci writes one index with both platforms, valid against the OCI schemas', async () => {
    const tar = w.path('oci.tar');
    const out = await mkdtemp(w.path('oci-'));
    await w.ok('r', ['build', '--progress', 'quiet', '--platform', 'linux/amd64,linux/arm64', '-t', 'cross:oci', '-o', `type=oci,dest=${tar}`, ctx]);
    await run('tar', ['-xf', tar, '-C', out]);
    const top = await readFile(join(out, 'index.json'));
    expect(validateOci(INDEX, top)).toEqual([]);
    const root = (JSON.parse(top.toString()) as Index).manifests;
    expect(root).toHaveLength(1);
    expect(root[0]?.mediaType).toBe(INDEX);
    const blob = (d: string): Promise<Buffer> => readFile(join(out, 'blobs', 'sha256', d.slice('sha256:'.length)));
    const idxBytes = await blob(root[0]?.digest as string);
    expect(validateOci(INDEX, idxBytes)).toEqual([]);
    const idx = JSON.parse(idxBytes.toString()) as Index;
    expect(idx.manifests.map((d) => d.platform?.architecture)).toEqual(['amd64', 'arm64']);
    for (const d of idx.manifests) {
      const manBytes = await blob(d.digest);
      expect(validateOci(MANIFEST, manBytes)).toEqual([]);
      const man = JSON.parse(manBytes.toString()) as Manifest;
      expect(validateOci('application/vnd.oci.image.config.v1+json', await blob(man.config.digest))).toEqual([]);
      for (const l of man.layers) expect((await blob(l.digest)).length).toBe(l.size);
    }
  }, 300_000);

  test('through tsbuildd: the platforms reach the daemon, which builds the index; type=local comes back per platform', async () => {
    const sock = `unix://${w.path('d.sock')}`;
    await w.importBusybox('daemon');
    const d = await startDaemon(['--addr', sock, '--root', w.root('daemon')]);
    try {
      const dir = await mkdtemp(w.path('remote-'));
      await w.ok('r', ['--addr', sock, 'build', '--progress', 'quiet', '--platform', 'linux/amd64,linux/arm64', '-t', 'cross:remote', '-o', 'type=image', '-o', `type=local,dest=${dir}`, ctx]);
      expect(await readFile(join(dir, 'linux_amd64', 'arch'), 'utf8')).toBe('amd64\n');
      expect(await readFile(join(dir, 'linux_arm64', 'arch'), 'utf8')).toBe('arm64\n');
      const images = (await w.ok('r', ['--addr', sock, 'images', '--format', 'json'])).stdout;
      expect(images).toMatch(/"Tag":"remote".*"Platforms":"linux\/amd64,linux\/arm64"/);
      const inspected = JSON.parse((await w.ok('r', ['--addr', sock, 'inspect', 'cross:remote'])).stdout) as { Platforms?: string[] }[];
      expect(inspected[0]?.Platforms).toEqual(['linux/amd64', 'linux/arm64']);
    } finally {
      expect((await d.stop()).code).toBe(0);
    }
    const digest = w.storedManifests('daemon').get('docker.io/library/cross:remote') as string;
    expect((await w.storeJson<Index>('daemon', digest)).manifests.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64']);
  }, 300_000);

  test('registry cache (mode=min) keeps every platform\'s final chain: a fresh root rebuilds both platforms from it', async () => {
    const cache = `${w.host}/mp/cache:min`;
    await w.importBusybox('c1');
    await w.ok('c1', ['build', '--progress', 'quiet', '--platform', 'linux/amd64,linux/arm64', '--cache-to', `type=registry,ref=${cache},mode=min`, ctx]);
    await w.importBusybox('c2');
    const meta = w.path('meta-c2.json');
    const dir = await mkdtemp(w.path('cached-'));
    await w.ok('c2', ['build', '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64', '--cache-from', `type=registry,ref=${cache}`, '--metadata-file', meta, '-o', `type=local,dest=${dir}`, ctx]);
    const steps = (JSON.parse(await readFile(meta, 'utf8')) as { 'tsbuild.steps': Step[] })['tsbuild.steps'];
    // The COPY steps' keys need the build stage's files (content checksums), so that stage runs; the
    // final stage of both platforms comes from the cache.
    const copies = steps.filter((s) => /COPY --from=build/.test(s.name));
    expect(copies.map((s) => s.outcome)).toEqual(['cached', 'cached', 'cached', 'cached']);
    expect(await readFile(join(dir, 'linux_arm64', 'arch'), 'utf8')).toBe('arm64\n');
    expect(await readFile(join(dir, 'linux_amd64', 'arch'), 'utf8')).toBe('amd64\n');
  }, 300_000);

  test('with an imported cache the platforms still share a step: it runs once', async () => {
    const cache = `${w.host}/mp/cache:min`;
    const other = await w.context('cross2', DOCKERFILE.replace('echo common', 'echo common2'));
    const meta = w.path('meta-c3.json');
    await w.ok('c2', ['build', '--progress', 'quiet', '--platform', 'linux/amd64,linux/arm64', '--cache-from', `type=registry,ref=${cache}`, '--metadata-file', meta, other]);
    const steps = (JSON.parse(await readFile(meta, 'utf8')) as { 'tsbuild.steps': Step[] })['tsbuild.steps'];
    expect(steps.filter((s) => /RUN echo common2/.test(s.name) && s.outcome === 'executed')).toHaveLength(1);
  }, 300_000);

  test('type=docker is refused for several platforms, before anything runs', async () => {
    const r = await w.run('r', ['build', '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64', '-o', `type=docker,dest=${w.path('d.tar')}`, ctx]);
    expectOneError(r, /docker exporter does not currently support exporting manifest lists/);
    expect(r.stderr).not.toMatch(/RUN echo/);
  }, 120_000);

  test('--push sends the index and both manifests; each platform pulls back with its own /arch', async () => {
    const ref = `${w.host}/mp/cross:1`;
    await w.ok('r', ['build', '--progress', 'quiet', '--platform', 'linux/amd64,linux/arm64', '-t', ref, '--push', ctx]);
    const res = await fetch(`${w.registry.url}/v2/mp/cross/manifests/1`, { headers: { accept: INDEX } });
    expect(res.headers.get('content-type')).toBe(INDEX);
    const idx = (await res.json()) as Index;
    expect(idx.manifests.map((d) => d.platform?.architecture)).toEqual(['amd64', 'arm64']);
    for (const [i, arch] of ['amd64', 'arm64'].entries()) {
      const d = idx.manifests[i] as Desc;
      const man = (await (await fetch(`${w.registry.url}/v2/mp/cross/manifests/${d.digest}`, { headers: { accept: MANIFEST } })).json()) as Manifest;
      const last = man.layers[man.layers.length - 1] as Desc;
      const layer = Buffer.from(await (await fetch(`${w.registry.url}/v2/mp/cross/blobs/${last.digest}`)).arrayBuffer());
      const file = w.path(`layer-${arch}.tgz`);
      await writeFile(file, layer);
      expect((await run('tar', ['-xzOf', file, 'arch'])).stdout).toBe(`${arch}\n`);
      // `tsbuild pull --platform` picks that platform's manifest out of the index.
      const root = `pull-${arch}`;
      const p = await w.ok(root, ['pull', '--platform', `linux/${arch}`, ref]);
      expect(p.stdout).toContain(`Digest: ${res.headers.get('docker-content-digest')}`);
      const inspected = JSON.parse((await w.ok(root, ['image', 'inspect', ref])).stdout) as { Architecture: string }[];
      expect(inspected[0]?.Architecture).toBe(arch);
    }
  }, 300_000);
});

describeIf(canRun && haveArm64Busybox && haveArm64Emulation, `${cannotRunWhy}; ${arm64Why}`, 'multi-platform builds with an emulated arm64 RUN', () => {
  let w: RegistryWorld;

  beforeAll(async () => {
    w = await RegistryWorld.create('multiplat-arm');
    await w.importBusybox('r', 'base-amd64');
    const arm = w.path('busybox-arm64.tar');
    await makeArm64BusyboxTar(arm);
    await w.ok('r', ['image', 'import', arm, 'base-arm64']);
  }, 120_000);

  afterAll(async () => {
    expect(await w.mounts()).toEqual([]);
    await w.cleanup();
  }, 60_000);

  test('each platform RUNs on its own base: uname -m says x86_64 and aarch64 (qemu)', async () => {
    // The base is picked by TARGETARCH here: choosing it from a multi-platform index is base-images.ts's job.
    const ctx = await w.context('uname', 'ARG TARGETARCH\nFROM base-${TARGETARCH}\nRUN uname -m > /m\n');
    const dir = await mkdtemp(w.path('uname-'));
    await w.ok('r', ['build', '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64', '-t', 'uname:1', '-o', 'type=image', '-o', `type=local,dest=${dir}`, ctx]);
    expect(await readFile(join(dir, 'linux_amd64', 'm'), 'utf8')).toBe('x86_64\n');
    expect(await readFile(join(dir, 'linux_arm64', 'm'), 'utf8')).toBe('aarch64\n');
    const index = await w.storeJson<Index>('r', w.storedManifests('r').get('docker.io/library/uname:1') as string);
    expect(index.manifests.map((d) => d.platform?.architecture)).toEqual(['amd64', 'arm64']);
  }, 300_000);

  test('a base that is a multi-platform index in a registry: each platform pulls its own entry', async () => {
    // The base index: each platform's busybox, pushed as one index (the build that makes it picks
    // its bases by TARGETARCH; the builds below do not).
    const base = `${w.host}/mp/busybox:multi`;
    const make = await w.context('mkbase', 'ARG TARGETARCH\nFROM base-${TARGETARCH}\nARG TARGETARCH\nENV BASEARCH=${TARGETARCH}\nLABEL made=index\n');
    await w.ok('r', ['build', '--progress', 'quiet', '--platform', 'linux/amd64,linux/arm64', '-t', base, '--push', make]);

    // Fresh data roots, so the base comes from the registry and is chosen per platform there.
    const ctx = await w.context('from-index', `FROM ${base}\nRUN uname -m > /m && echo $BASEARCH > /basearch\n`);
    const dir = await mkdtemp(w.path('from-index-'));
    const both = await w.ok('both', ['build', '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64', '-o', `type=local,dest=${dir}`, ctx]);
    expect(await readFile(join(dir, 'linux_amd64', 'm'), 'utf8')).toBe('x86_64\n');
    expect(await readFile(join(dir, 'linux_arm64', 'm'), 'utf8')).toBe('aarch64\n');
    // Each platform inherits its own entry's config (its ENV), looked up under its own step.
    expect(await readFile(join(dir, 'linux_amd64', 'basearch'), 'utf8')).toBe('amd64\n');
    expect(await readFile(join(dir, 'linux_arm64', 'basearch'), 'utf8')).toBe('arm64\n');
    for (const p of ['linux/amd64', 'linux/arm64']) expect(both.stderr).toContain(`[${p} internal] load metadata for ${base}`);

    // One foreign platform alone: only its entry is used, and the image says arm64.
    await w.ok('arm', ['build', '--progress', 'quiet', '--platform', 'linux/arm64', '-t', 'from-index:arm', ctx]);
    const inspected = JSON.parse((await w.ok('arm', ['image', 'inspect', 'from-index:arm'])).stdout) as { Architecture: string }[];
    expect(inspected[0]?.Architecture).toBe('arm64');
    const one = await mkdtemp(w.path('from-index-arm-'));
    await w.ok('arm', ['build', '--progress', 'quiet', '--platform', 'linux/arm64', '-o', `type=local,dest=${one}`, ctx]);
    expect(await readFile(join(one, 'm'), 'utf8')).toBe('aarch64\n');
  }, 400_000);
});

describe('platform lists', () => {
  test('targetPlatforms splits, normalizes and dedupes', async () => {
    const { targetPlatforms } = await import('../../../src/engine/multi-platform-build.js');
    expect(targetPlatforms({ platforms: ['linux/amd64,linux/arm64', 'linux/x86_64', 'arm64'] })).toEqual(['linux/amd64', 'linux/arm64']);
    expect(targetPlatforms({ platform: 'linux/arm/v7' })).toEqual(['linux/arm/v7']);
    expect(targetPlatforms({})).toEqual([]);
    expect(() => targetPlatforms({ platforms: ['linux/amd64', 'lin ux'] })).toThrow(/--platform/);
  });
});
