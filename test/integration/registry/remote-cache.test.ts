/**
 * Remote cache round trips through the real CLI: a build on data root A exports its cache
 * (`--cache-to`); a build of the same Dockerfile and context on an empty data root imports it
 * (`--cache-from`) and every step is CACHED, no RUN executes, and the only blobs downloaded are the
 * final image's layers — imported records are read first and a layer is fetched only when its
 * result is used. Registry, OCI-layout directory and inline caches; mode=max vs mode=min on a
 * multi-stage build; zstd and uncompressed cache layers (`compression=`, as buildx has it); a
 * missing or corrupt cache only costs a warning.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rawSummary } from '../../helpers/build-env.js';
import { describeIf } from '../../helpers/skip.js';
import { canRun, cannotRunWhy, RegistryWorld } from './world.js';

interface Manifest { layers: { digest: string; size: number }[]; config: { digest: string; mediaType: string } }
interface Meta {
  'containerimage.digest': string;
  'tsbuild.remote-cache': { downloadedBytes: number; downloadedBlobs: number; imported: { name: string; records: number; error?: string }[] };
}

/**
 * Step vertices (FROM/RUN/COPY) of a rawjson build, in order: `cached` when the cache answered,
 * `ran` when the step was started (an imported result that cannot be used is cached, then run).
 */
function steps(stderr: string): { name: string; cached: boolean; ran: boolean }[] {
  const states = new Map<string, Set<string>>();
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const ev = JSON.parse(line) as { type: string; name?: string; state?: string };
    if (ev.type !== 'vertex' || !ev.name || !ev.state || !/\] (FROM|RUN|COPY) /.test(ev.name)) continue;
    const set = states.get(ev.name) ?? new Set<string>();
    set.add(ev.state);
    states.set(ev.name, set);
  }
  return [...states].map(([name, set]) => ({ name, cached: set.has('cached'), ran: set.has('started') }));
}

describeIf(canRun, cannotRunWhy, 'remote cache through the CLI', () => {
  let w: RegistryWorld;
  let base: string;
  let baseConfig: string;
  const single = (b: string): string => `FROM ${b}\nRUN echo one > /one && head -c 20000 /dev/urandom > /noise\nCOPY a.txt /a.txt\nRUN cat /a.txt /one > /b.txt\n`;
  const multi = (b: string): string => `FROM ${b} AS build\nRUN echo built > /out && head -c 30000 /dev/urandom > /junk\nFROM ${b}\nCOPY --from=build /out /out\nRUN cat /out > /final\n`;

  beforeAll(async () => {
    w = await RegistryWorld.create('rcache');
    base = await w.seedBase();
    baseConfig = (await w.registryManifest<Manifest>('base/busybox:1')).config.digest;
  }, 120_000);

  afterAll(async () => {
    expect(await w.mounts()).toEqual([]);
    await w.cleanup();
  }, 60_000);

  async function build(root: string, ctx: string, extra: readonly string[]): Promise<{ stderr: string; meta: Meta; outDir: string }> {
    const meta = w.path(`meta-${root}-${Date.now()}.json`);
    const outDir = await mkdtemp(join(w.dir, 'out-'));
    const r = await w.ok(root, ['build', '--progress', 'rawjson', '--metadata-file', meta, ...extra, '-o', `type=local,dest=${outDir}`, ctx]);
    return { stderr: r.stderr, meta: JSON.parse(await readFile(meta, 'utf8')) as Meta, outDir };
  }

  test('registry cache: on an empty data root every step is CACHED and only the final image\'s layers are downloaded', async () => {
    const ctx = await w.context('single', single(base), { 'a.txt': 'hello\n' });
    const cacheRef = `${w.host}/cache/single:main`;
    const imageRef = `${w.host}/app/single:1`;
    const a = await w.ok('A', ['build', '--progress', 'plain', '-t', imageRef, '--push', '--cache-to', `type=registry,ref=${cacheRef}`, ctx]);
    expect(a.stderr).toMatch(/exporting cache to .*cache\/single:main/);
    const image = await w.registryManifest<Manifest>('app/single:1');
    const cache = await w.registryManifest<Manifest>('cache/single:main');
    expect(cache.config.mediaType).toBe('application/vnd.tsbuild.cache.config.v0+json');

    const mark = w.mark();
    const b = await build('B', ctx, ['-t', 'app:1', '-o', 'type=image', '--cache-from', `type=registry,ref=${cacheRef}`]);
    expect(steps(b.stderr)).toEqual([
      expect.objectContaining({ name: expect.stringMatching(/FROM /), cached: true, ran: false }),
      expect.objectContaining({ name: expect.stringMatching(/RUN echo one/), cached: true, ran: false }),
      expect.objectContaining({ name: expect.stringMatching(/COPY a.txt/), cached: true, ran: false }),
      expect.objectContaining({ name: expect.stringMatching(/RUN cat/), cached: true, ran: false }),
    ]);
    expect(rawSummary(b.stderr).cached).toBe(4);
    expect(await readFile(join(b.outDir, 'b.txt'), 'utf8')).toBe('hello\none\n');

    // Downloads: metadata (the cache config; the base image's config, which the Dockerfile
    // frontend reads for ENV/WORKDIR) and each final-image layer at most once — nothing else.
    const gets = w.blobGets(mark);
    const layerDigests = image.layers.map((l) => l.digest);
    const metadata = [cache.config.digest, baseConfig];
    const layerGets = gets.filter((d) => !metadata.includes(d));
    expect(layerGets.length).toBe(new Set(layerGets).size);
    for (const d of layerGets) expect(layerDigests).toContain(d);
    const finalBytes = image.layers.reduce((n, l) => n + l.size, 0);
    expect(b.meta['tsbuild.remote-cache'].downloadedBytes).toBeLessThanOrEqual(finalBytes);
    expect(b.meta['tsbuild.remote-cache'].downloadedBytes).toBeGreaterThan(0);
    // The FROM step was a cache hit, so the base image itself was never pulled into B's store.
    expect((await w.ok('B', ['images', '--format', 'json'])).stdout).not.toContain('base/busybox');
    // B's image has A's layers (the very blobs that were downloaded).
    const bManifest = await w.storeJson<Manifest>('B', b.meta['containerimage.digest']);
    expect(bManifest.layers.map((l) => l.digest)).toEqual(layerDigests);

    // Imported results became local records: the next build on B downloads nothing.
    const mark2 = w.mark();
    const again = await build('B', ctx, ['--cache-from', `type=registry,ref=${cacheRef}`]);
    expect(steps(again.stderr).every((s) => s.cached)).toBe(true);
    expect(w.blobGets(mark2).filter((d) => layerDigests.includes(d))).toEqual([]);
    expect(again.meta['tsbuild.remote-cache'].downloadedBytes).toBe(0);
    expect((await w.run('B', ['cache', 'check'])).code).toBe(0);
  }, 240_000);

  test('a changed step downloads only the layers below it, never the old layers above', async () => {
    const cacheRef = `${w.host}/cache/single:main`;
    const image = await w.registryManifest<Manifest>('app/single:1');
    const [baseLayer, runLayer, copyLayer, lastLayer] = image.layers.map((l) => l.digest);
    const ctx = await w.context('single-changed', single(base), { 'a.txt': 'changed\n' });
    const mark = w.mark();
    const c = await build('C', ctx, ['--cache-from', `type=registry,ref=${cacheRef}`]);
    const s = steps(c.stderr);
    expect(s.map((x) => x.cached)).toEqual([true, true, false, false]);
    expect(await readFile(join(c.outDir, 'b.txt'), 'utf8')).toBe('changed\none\n');
    const gets = w.blobGets(mark);
    expect(gets).toEqual(expect.arrayContaining([baseLayer, runLayer]));
    expect(gets).not.toContain(copyLayer);
    expect(gets).not.toContain(lastLayer);
  }, 240_000);

  test('mode=max makes the intermediate stage hit; mode=min rebuilds it', async () => {
    const ctx = await w.context('multi', multi(base));
    await w.ok('A', ['build', '--progress', 'quiet',
      '--cache-to', `type=registry,ref=${w.host}/cache/multi:max,mode=max`,
      '--cache-to', `type=registry,ref=${w.host}/cache/multi:min,mode=min`, ctx]);
    const max = await build('D', ctx, ['--cache-from', `type=registry,ref=${w.host}/cache/multi:max`]);
    expect(steps(max.stderr).filter((x) => !x.cached)).toEqual([]);
    expect(steps(max.stderr)).toHaveLength(4);
    const min = await build('E', ctx, ['--cache-from', `type=registry,ref=${w.host}/cache/multi:min`]);
    const ran = steps(min.stderr).filter((x) => x.ran).map((x) => x.name);
    expect(ran).toEqual([expect.stringMatching(/\[build 2\/2\] RUN echo built/)]);
    expect(await readFile(join(min.outDir, 'final'), 'utf8')).toBe('built\n');
  }, 240_000);

  test('type=local: an OCI layout directory carries the cache between data roots', async () => {
    const ctx = await w.context('local', multi(base).replace('built', 'local-built'));
    const dir = w.path('local-cache');
    await w.ok('A', ['build', '--progress', 'quiet', '--cache-to', `type=local,dest=${dir},mode=max`, ctx]);
    expect(existsSync(join(dir, 'oci-layout'))).toBe(true);
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    expect(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(['latest']);
    const f = await build('F', ctx, ['--cache-from', `type=local,src=${dir}`]);
    expect(steps(f.stderr).filter((x) => !x.cached)).toEqual([]);
    expect(await readFile(join(f.outDir, 'final'), 'utf8')).toBe('local-built\n');
    expect(await w.ingest('F')).toEqual([]);
  }, 240_000);

  test('type=inline: the pushed image carries its own cache metadata', async () => {
    const ctx = await w.context('inline', single(base), { 'a.txt': 'inline\n' });
    const ref = `${w.host}/app/inline:1`;
    await w.ok('A', ['build', '--progress', 'quiet', '-t', ref, '--push', '--cache-to', 'type=inline', ctx]);
    const manifest = await w.registryManifest<Manifest>('app/inline:1');
    const cfg = await (await fetch(`${w.registry.url}/v2/app/inline/blobs/${manifest.config.digest}`)).json() as Record<string, unknown>;
    expect(cfg['tsbuild.cache.v0']).toEqual(expect.objectContaining({ version: 'tsbuild.cache.v0' }));
    const mark = w.mark();
    const g = await build('G', ctx, ['--cache-from', ref]);
    expect(steps(g.stderr).filter((x) => !x.cached)).toEqual([]);
    for (const d of w.blobGets(mark)) expect([...manifest.layers.map((l) => l.digest), manifest.config.digest, baseConfig]).toContain(d);
  }, 240_000);

  test('compression=zstd: the cache\'s layers are zstd blobs and an empty data root builds every step from them; compression=uncompressed for a local cache', async () => {
    const ctx = await w.context('zstd', single(base), { 'a.txt': 'zstd\n' });
    const cacheRef = `${w.host}/cache/zstd:1`;
    const dir = w.path('zstd-local-cache');
    await w.ok('A', ['build', '--progress', 'quiet',
      '--cache-to', `type=registry,ref=${cacheRef},compression=zstd,compression-level=9,force-compression=true`,
      '--cache-to', `type=local,dest=${dir},compression=uncompressed`, ctx]);
    const cache = await w.registryManifest<{ layers: { mediaType: string }[] }>('cache/zstd:1');
    // Forced: the base image's layer (stored gzip from the registry) is converted too.
    expect(cache.layers.map((l) => l.mediaType)).toEqual(cache.layers.map(() => 'application/vnd.oci.image.layer.v1.tar+zstd'));
    expect(cache.layers.length).toBe(4);
    const j = await build('J', ctx, ['--cache-from', `type=registry,ref=${cacheRef}`]);
    expect(steps(j.stderr).filter((x) => !x.cached)).toEqual([]);
    expect(await readFile(join(j.outDir, 'b.txt'), 'utf8')).toBe('zstd\none\n');
    expect((await w.run('J', ['cache', 'check'])).code).toBe(0);

    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const local = JSON.parse(await readFile(join(dir, 'blobs', 'sha256', (index.manifests[0]?.digest ?? '').slice(7)), 'utf8')) as { layers: { mediaType: string }[] };
    // Not forced: the base layer keeps the compression it came in; the build's own layers are tar.
    expect(local.layers.map((l) => l.mediaType)).toEqual([
      'application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.v1.tar',
    ]);
    const k = await build('K', ctx, ['--cache-from', `type=local,src=${dir}`]);
    expect(steps(k.stderr).filter((x) => !x.cached)).toEqual([]);
    expect(await readFile(join(k.outDir, 'b.txt'), 'utf8')).toBe('zstd\none\n');
  }, 240_000);

  test('force-compression converts the layers of records re-exported from an imported cache without being loaded', async () => {
    // A writable bind mount keys the last RUN by the build stage's cache key, not its content: on an
    // empty root that hits, the build stage's result is never loaded, and its record is re-exported
    // from the imported cache, where its layer is a plain tar.
    const ctx = await w.context('forced', `FROM ${base} AS build\nRUN echo forced > /out && head -c 30000 /dev/urandom > /junk\n`
      + `FROM ${base}\nRUN --mount=type=bind,from=build,target=/b,rw cat /b/out > /final\n`);
    const dir = w.path('forced-local-cache');
    await w.ok('A', ['build', '--progress', 'quiet', '--cache-to', `type=local,dest=${dir},mode=max,compression=uncompressed`, ctx]);
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const local = JSON.parse(await readFile(join(dir, 'blobs', 'sha256', (index.manifests[0]?.digest ?? '').slice(7)), 'utf8')) as { layers: { mediaType: string; digest: string; size: number }[] };
    const stageLayer = local.layers.find((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar' && l.size > 30000);
    expect(stageLayer).toBeDefined();

    const cacheRef = `${w.host}/cache/forced:1`;
    const m = await build('M', ctx, ['--cache-from', `type=local,src=${dir}`,
      '--cache-to', `type=registry,ref=${cacheRef},mode=max,compression=zstd,force-compression=true`]);
    expect(steps(m.stderr).filter((x) => !x.cached)).toEqual([]);
    const cache = await w.registryManifest<{ layers: { mediaType: string; digest: string; size: number }[] }>('cache/forced:1');
    expect(cache.layers.length).toBe(3);
    expect(cache.layers.map((l) => l.mediaType)).toEqual(cache.layers.map(() => 'application/vnd.oci.image.layer.v1.tar+zstd'));
    // The stage's layer was fetched and converted only for the export: neither blob stays in M's store.
    const inM = new Set(await w.blobs('M'));
    expect(inM.has((stageLayer?.digest ?? '').slice(7))).toBe(false);
    expect(cache.layers.filter((l) => !inM.has(l.digest.slice(7)))).toHaveLength(1);
    expect((await w.run('M', ['cache', 'check'])).code).toBe(0);
    expect(await w.ingest('M')).toEqual([]);

    const n = await build('N', ctx, ['--cache-from', `type=registry,ref=${cacheRef}`]);
    expect(steps(n.stderr).filter((x) => !x.cached)).toEqual([]);
    expect(await readFile(join(n.outDir, 'final'), 'utf8')).toBe('forced\n');
  }, 240_000);

  test('a compression the cache export cannot make fails the build before any step runs', async () => {
    const ctx = await w.context('badzstd', `FROM ${base}\nRUN echo never > /n\n`);
    for (const [attr, why] of [
      ['compression=lz4', /invalid --cache-to for .*cache\/bad:1: unsupported compression "lz4" \(use gzip, zstd or uncompressed\)/],
      ['compression=zstd,compression-level=30', /invalid --cache-to for .*cache\/bad:1: invalid compression-level "30" for zstd \(0-22\)/],
    ] as const) {
      const r = await w.run('A', ['build', '--progress', 'rawjson', '--cache-to', `type=registry,ref=${w.host}/cache/bad:1,${attr}`, ctx]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(why);
      expect(steps(r.stderr).filter((x) => x.ran)).toEqual([]);
    }
  }, 120_000);

  test('a cache that does not exist is a warning; the build runs every step', async () => {
    const ctx = await w.context('nocache', `FROM ${base}\nRUN echo nocache > /n\n`);
    const h = await build('H', ctx, ['--cache-from', `type=registry,ref=${w.host}/cache/none:x`]);
    expect(h.stderr).toMatch(/"type":"warning".*cache import from .*cache\/none:x skipped: .*not found/);
    expect(steps(h.stderr).find((x) => /RUN/.test(x.name))?.ran).toBe(true);
    expect(h.meta['tsbuild.remote-cache'].imported).toEqual([expect.objectContaining({ records: 0, error: expect.stringMatching(/not found/) })]);
  }, 120_000);

  test('a corrupt layer in the cache is a warning: the step runs instead and nothing partial is kept', async () => {
    const ctx = await w.context('corrupt', single(base), { 'a.txt': 'corrupt\n' });
    const cacheRef = `${w.host}/cache/corrupt:1`;
    await w.ok('A', ['build', '--progress', 'quiet', '-t', `${w.host}/app/corrupt:1`, '--push', '--cache-to', `type=registry,ref=${cacheRef}`, ctx]);
    const last = (await w.registryManifest<Manifest>('app/corrupt:1')).layers.at(-1)?.digest as string;
    w.proxy.addRule({ method: 'GET', path: new RegExp(`/blobs/${last}$`), fault: { kind: 'corrupt' } });
    try {
      const i = await build('I', ctx, ['--cache-from', `type=registry,ref=${cacheRef}`]);
      expect(i.stderr).toMatch(/"type":"warning".*cannot use the cached result of .*RUN cat.*running the step instead/);
      expect(steps(i.stderr).filter((x) => x.ran).map((x) => x.name)).toEqual([expect.stringMatching(/RUN cat/)]);
      // The blob that failed verification was never stored.
      expect(await w.blobs('I')).not.toContain(last.slice('sha256:'.length));
      expect(await readFile(join(i.outDir, 'b.txt'), 'utf8')).toBe('corrupt\none\n');
      expect(await w.ingest('I')).toEqual([]);
      expect((await w.run('I', ['cache', 'check'])).code).toBe(0);
    } finally {
      w.proxy.clearRules();
    }
  }, 240_000);
});
