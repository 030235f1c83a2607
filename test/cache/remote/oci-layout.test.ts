/**
 * `type=local` cache directories on the real filesystem: written as an OCI image layout (blobs
 * verified, index.json replaced atomically, other tags kept), read back by tag or digest, and
 * fetched into another data root's content store — a corrupt or missing blob fails that fetch and
 * leaves nothing behind.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ContentStore } from '../../../src/cache/content-store.js';
import { dataRootPaths } from '../../../src/cache/data-root.js';
import { layoutFetcher, readCacheLayout, writeCacheLayout } from '../../../src/cache/remote/oci-layout.js';
import type { Descriptor } from '../../../src/oci/types.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const desc = (mediaType: string, b: Buffer): Descriptor => ({ mediaType, digest: sha(b), size: b.length });

let dir: string;
const signal = new AbortController().signal;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-layout-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(tag: string, layer: Buffer): Promise<{ manifest: Descriptor; layer: Descriptor }> {
  const config = Buffer.from(JSON.stringify({ version: 'tsbuild.cache.v0', layers: [], records: [], tag }));
  const configD = desc('application/vnd.tsbuild.cache.config.v0+json', config);
  const layerD = desc('application/vnd.oci.image.layer.v1.tar+gzip', layer);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configD, layers: [layerD] }));
  const manifestD = desc('application/vnd.oci.image.manifest.v1+json', manifest);
  await writeCacheLayout({
    dir: join(dir, 'cache'), tag,
    manifest: { descriptor: manifestD, bytes: manifest },
    config: { descriptor: configD, bytes: config },
    blobs: [layerD],
    open: async () => Readable.from([layer]),
    signal,
  });
  return { manifest: manifestD, layer: layerD };
}

test('write, read back by tag and by digest, keep other tags', async () => {
  const one = await write('main', Buffer.from('layer one'));
  const two = await write('pr-7', Buffer.from('layer two'));
  await write('main', Buffer.from('layer one again'));
  const index = JSON.parse(await readFile(join(dir, 'cache', 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
  expect(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(['pr-7', 'main']);
  expect(JSON.parse(await readFile(join(dir, 'cache', 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
  expect((await readCacheLayout(join(dir, 'cache'), { tag: 'pr-7' }, signal)).manifestDescriptor.digest).toBe(two.manifest.digest);
  // A manifest whose tag moved on left the index: it is not found, even by digest.
  const old = await readCacheLayout(join(dir, 'cache'), { tag: 'x', digest: one.manifest.digest }, signal).catch((e: unknown) => e);
  expect(old).toMatchObject({ code: 'CACHE_NOT_FOUND' });
  await expect(readCacheLayout(join(dir, 'cache'), { tag: 'nope' }, signal)).rejects.toMatchObject({ code: 'CACHE_NOT_FOUND', message: expect.stringMatching(/no cache manifest tagged "nope"/) });
  await expect(readCacheLayout(join(dir, 'missing'), { tag: 'main' }, signal)).rejects.toMatchObject({ code: 'CACHE_NOT_FOUND' });
  // No temp files were left next to the blobs or the index.
  expect((await readdir(join(dir, 'cache'))).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  expect((await readdir(join(dir, 'cache', 'blobs', 'sha256'))).every((n) => /^[0-9a-f]{64}$/.test(n))).toBe(true);
});

test('fetching into a content store verifies the blob; a corrupt one leaves nothing', async () => {
  const w = await write('main', Buffer.from('the layer bytes'));
  const store = await ContentStore.open({ paths: dataRootPaths(join(dir, 'root')) });
  const fetcher = layoutFetcher(join(dir, 'cache'), store);
  expect(await fetcher.fetch(w.layer, { signal })).toBe(w.layer.size);
  expect(await fetcher.fetch(w.layer, { signal })).toBe(0);
  expect((await store.readAll(w.layer.digest)).toString()).toBe('the layer bytes');

  const w2 = await write('other', Buffer.from('another layer'));
  await writeFile(join(dir, 'cache', 'blobs', 'sha256', w2.layer.digest.slice(7)), 'tampered bytes');
  await expect(fetcher.fetch(w2.layer, { signal })).rejects.toMatchObject({ code: expect.stringMatching(/MISMATCH/) });
  expect(await store.has(w2.layer.digest)).toBe(false);
  expect(await readdir(join(dir, 'root', 'content', 'ingest'))).toEqual([]);
  await expect(fetcher.fetch({ ...w2.layer, digest: `sha256:${'9'.repeat(64)}` }, { signal })).rejects.toMatchObject({ code: 'CACHE_BLOB_MISSING' });
});
