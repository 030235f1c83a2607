/**
 * Every output that writes OCI documents is checked against the OCI image-spec schemas
 * (../shared/anchors/oci-schema, test/helpers/oci-validate.ts), and every blob a document names
 * is present with the bytes its digest says (hashed here, independently of tsbuild): the local
 * image store (`-t`), a registry push (`--push`), a registry cache export and a local cache
 * export (an OCI layout). The `oci` and `docker` archive outputs are checked in
 * test/integration/exporter/outputs.test.ts.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeIf } from '../../helpers/skip.js';
import { validateOci } from '../../helpers/oci-validate.js';
import { canRun, cannotRunWhy, RegistryWorld } from './world.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const CONFIG = 'application/vnd.oci.image.config.v1+json';

interface Descriptor { readonly mediaType: string; readonly digest: string; readonly size: number }
interface Manifest { readonly mediaType?: string; readonly config: Descriptor; readonly layers: readonly Descriptor[] }

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Where the bytes of a digest come from, for one kind of output. */
type Fetch = (digest: string) => Promise<Buffer>;

/** Validates a manifest, its config and that every blob it names has the bytes its descriptor says. */
async function checkImage(manifestBytes: Buffer, fetchBlob: Fetch, opts: { readonly imageConfig: boolean }): Promise<string[]> {
  const problems = validateOci(MANIFEST, manifestBytes).map((p) => `manifest: ${p}`);
  const m = JSON.parse(manifestBytes.toString()) as Manifest;
  if (m.mediaType !== MANIFEST) problems.push(`manifest mediaType ${String(m.mediaType)}`);
  for (const d of [m.config, ...m.layers]) {
    const bytes = await fetchBlob(d.digest);
    if (sha256(bytes) !== d.digest) problems.push(`${d.digest}: content hashes to ${sha256(bytes)}`);
    if (bytes.length !== d.size) problems.push(`${d.digest}: ${bytes.length} bytes, descriptor says ${d.size}`);
  }
  if (opts.imageConfig) {
    if (m.config.mediaType !== CONFIG) problems.push(`config mediaType ${m.config.mediaType}`);
    problems.push(...validateOci(CONFIG, await fetchBlob(m.config.digest)).map((p) => `config: ${p}`));
  }
  return problems;
}

describeIf(canRun, cannotRunWhy, 'OCI documents of every output validate against the OCI schemas', () => {
  let w: RegistryWorld;
  let ctx: string;
  const localCache = (): string => w.path('local-cache');

  beforeAll(async () => {
    w = await RegistryWorld.create('schemas');
    const base = await w.seedBase();
    ctx = await w.context('app', [
      `FROM ${base}`,
      'COPY a.txt /a.txt',
      'RUN echo built > /b.txt',
      'ENV MODE=test',
      'LABEL org.example.k=v',
      'CMD ["sh"]',
      '',
    ].join('\n'), { 'a.txt': 'hello\n' });
    await w.ok('b', [
      'build', '--progress=plain', '-t', `${w.host}/app/x:1`, '--push',
      '--cache-to', `type=registry,ref=${w.host}/app/cache:1,mode=max`,
      '--cache-to', `type=local,dest=${localCache()},mode=max`,
      ctx,
    ]);
  }, 300_000);

  afterAll(async () => {
    expect(await w.mounts()).toEqual([]);
    await w.cleanup();
  }, 60_000);

  test('the local image store: manifest, config and layer blobs', async () => {
    const digest = w.storedManifests('b').get(`${w.host}/app/x:1`);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const store: Fetch = (d) => readFile(join(w.root('b'), 'content', 'blobs', 'sha256', d.replace(/^sha256:/, '')));
    const manifest = await store(digest as string);
    expect(sha256(manifest)).toBe(digest);
    expect(await checkImage(manifest, store, { imageConfig: true })).toEqual([]);
  });

  test('a registry push: the manifest and config the registry serves', async () => {
    const res = await fetch(`${w.registry.url}/v2/app/x/manifests/1`, { headers: { accept: `${MANIFEST}, ${INDEX}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(MANIFEST);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(res.headers.get('docker-content-digest')).toBe(sha256(bytes));
    const blob: Fetch = async (d) => Buffer.from(await (await fetch(`${w.registry.url}/v2/app/x/blobs/${d}`)).arrayBuffer());
    expect(await checkImage(bytes, blob, { imageConfig: true })).toEqual([]);
  });

  test('a registry cache export: an OCI manifest whose blobs are all in the repository', async () => {
    const res = await fetch(`${w.registry.url}/v2/app/cache/manifests/1`, { headers: { accept: `${MANIFEST}, ${INDEX}` } });
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    const blob: Fetch = async (d) => Buffer.from(await (await fetch(`${w.registry.url}/v2/app/cache/blobs/${d}`)).arrayBuffer());
    const m = JSON.parse(bytes.toString()) as Manifest;
    expect(m.config.mediaType).toBe('application/vnd.tsbuild.cache.config.v0+json');
    expect(m.layers.length).toBeGreaterThan(0);
    expect(await checkImage(bytes, blob, { imageConfig: false })).toEqual([]);
  });

  test('a local cache export: an OCI image layout (oci-layout, index.json, manifest, blobs)', async () => {
    const dir = localCache();
    expect(validateOci('application/vnd.oci.layout.header.v1+json', await readFile(join(dir, 'oci-layout')))).toEqual([]);
    const indexBytes = await readFile(join(dir, 'index.json'));
    expect(validateOci(INDEX, indexBytes)).toEqual([]);
    const index = JSON.parse(indexBytes.toString()) as { manifests: (Descriptor & { annotations?: Record<string, string> })[] };
    expect(index.manifests.map((d) => d.annotations?.['org.opencontainers.image.ref.name'])).toEqual(['latest']);
    const blob: Fetch = (d) => readFile(join(dir, 'blobs', 'sha256', d.replace(/^sha256:/, '')));
    const top = index.manifests[0] as Descriptor;
    const manifest = await blob(top.digest);
    expect(sha256(manifest)).toBe(top.digest);
    expect(await checkImage(manifest, blob, { imageConfig: false })).toEqual([]);
  });
});
