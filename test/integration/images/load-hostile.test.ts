/**
 * `tsbuild image load` of hostile archives: manifest.json paths with `..` or absolute paths,
 * archive entries named `../…`, symlinks (docker layouts) and blob links (OCI layouts) pointing
 * outside the archive, index documents that are links. Each is refused with one line naming the
 * bad path, and leaves the store as it was. The files the links point at really exist and would
 * load cleanly if they were read, so a refusal also shows that nothing outside was read.
 * Then the layer limits through the CLI: TSBUILD_LAYER_MAX_* stop a load that measures a gzip
 * bomb, and a build that unpacks an entry flood, each naming the layer digest and the limit.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describeIf, isRoot } from '../../helpers/skip.js';
import { fileLayer, hex, legacyArchive, ociImage, ociLayout, sha256, tarOf, type ArchiveEntry } from './archives.js';
import { Workspace } from './workspace.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** A legacy docker-save archive of one layer whose manifest.json names `layerPath`; `extra` entries come first. */
async function legacyWithLayerPath(layer: Buffer, layerPath: string, extra: readonly ArchiveEntry[]): Promise<Buffer> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
  return tarOf([
    ...extra,
    { name: `${hex(sha256(config))}.json`, data: config },
    { name: 'manifest.json', data: Buffer.from(JSON.stringify([{ Config: `${hex(sha256(config))}.json`, RepoTags: ['hostile:1'], Layers: [layerPath] }])) },
  ]);
}

describeIf(isRoot, 'needs root', 'image load: hostile archives', () => {
  let ws: Workspace;
  let outside: string;
  let layer: Buffer;
  const root = 'hostile';
  let blobsBefore: string[];
  let imagesBefore: string;

  beforeAll(async () => {
    ws = await Workspace.create('load-hostile');
    layer = await fileLayer('/hostile.txt', 'should never load\n');
    // Real files outside any archive: a valid layer, and a manifest.json that would load it.
    outside = ws.path('outside');
    await mkdir(outside, { recursive: true });
    await writeFile(ws.path('outside', 'layer.tar'), layer);
    const { tar } = await legacyArchive({ layers: [await fileLayer('/ok.txt', 'ok\n')], repoTags: ['good:1'] });
    await ws.ok(root, ['image', 'load'], { input: tar });
    blobsBefore = await ws.blobs(root);
    imagesBefore = (await ws.ok(root, ['images', '--format', 'json'])).stdout;
  }, 60_000);

  afterAll(async () => {
    await ws.cleanup();
  }, 60_000);

  async function expectRefused(input: Buffer, message: RegExp, env: NodeJS.ProcessEnv = {}): Promise<string> {
    const r = await ws.run(root, ['image', 'load'], { input, env });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(await ws.blobs(root)).toEqual(blobsBefore);
    expect(await ws.ingest(root)).toEqual([]);
    expect((await ws.ok(root, ['images', '--format', 'json'])).stdout).toBe(imagesBefore);
    return r.stderr;
  }

  test('manifest.json layer path with ..', async () => {
    await expectRefused(await legacyWithLayerPath(layer, '../../outside/layer.tar', []), /manifest\.json\[0\]: "\.\.\/\.\.\/outside\/layer\.tar" climbs out of the archive with "\.\."/);
    await expectRefused(await legacyWithLayerPath(layer, 'abc/../../x/layer.tar', []), /"abc\/\.\.\/\.\.\/x\/layer\.tar" climbs out of the archive/);
  });

  test('manifest.json layer path that is absolute', async () => {
    await expectRefused(await legacyWithLayerPath(layer, `${outside}/layer.tar`, []), new RegExp(`manifest\\.json\\[0\\]: "${outside}/layer\\.tar" is an absolute path`));
  });

  test('an archive entry named ../… (even when manifest.json names it)', async () => {
    await expectRefused(await legacyWithLayerPath(layer, '../evil/layer.tar', [{ name: '../evil/layer.tar', data: layer }]), /entry "\.\.\/evil\/layer\.tar" climbs out of the archive/);
  });

  test('a layer.tar symlink pointing outside the archive, absolute or relative', async () => {
    for (const target of [`${outside}/layer.tar`, '../../../../../../../../../..' + `${outside}/layer.tar`]) {
      const msg = await expectRefused(await legacyWithLayerPath(layer, 'abc/layer.tar', [{ name: 'abc/', dir: true }, { name: 'abc/layer.tar', symlink: target }]), /abc\/layer\.tar is a symlink to .*, outside the archive/);
      expect(msg).toContain(JSON.stringify(target));
    }
  });

  test('a hardlink climbing out of the archive', async () => {
    await expectRefused(await legacyWithLayerPath(layer, 'abc/layer.tar', [{ name: 'abc/layer.tar', hardlink: '../outside/layer.tar' }]), /abc\/layer\.tar is a hardlink to "\.\.\/outside\/layer\.tar", outside the archive/);
  });

  test('OCI layout: a blob that is a symlink outside the archive (to a file with exactly that content)', async () => {
    const img = ociImage([{ blob: layer, diffId: sha256(layer), gzip: false }], 'oci-link');
    const blobs = new Map(img.blobs);
    blobs.delete(sha256(layer));
    const index = { schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, digest: img.manifestDigest, size: img.manifestSize, annotations: { 'io.containerd.image.name': 'oci-link:1' } }] };
    const base = await ociLayout(index, blobs);
    // Insert the link as an extra entry: the layout tar without its end blocks, the link, new end blocks.
    const link = await tarOf([{ name: `blobs/sha256/${hex(sha256(layer))}`, symlink: `${outside}/layer.tar` }]);
    const tar = Buffer.concat([base.subarray(0, base.length - 1024), link]);
    await expectRefused(tar, new RegExp(`blobs/sha256/${hex(sha256(layer))} is a symlink to "${outside}/layer\\.tar", outside the archive`));
  });

  test('manifest.json that is itself a symlink to a file outside', async () => {
    await writeFile(ws.path('outside', 'manifest.json'), JSON.stringify([{ Config: 'x.json', RepoTags: ['hostile:2'], Layers: ['layer.tar'] }]));
    await expectRefused(await tarOf([{ name: 'manifest.json', symlink: `${outside}/manifest.json` }]), /manifest\.json: is a symlink to ".*"; it must be a regular file of the archive/);
  });

  test('TSBUILD_LAYER_MAX_BYTES stops the load of a legacy archive whose gzip layer is a bomb', async () => {
    const bomb = await tarOf([{ name: 'zeros', data: Buffer.alloc(4 * 1024 * 1024) }]);
    const gz = gzipSync(bomb);
    const { tar } = await legacyArchive({ layers: [gz], repoTags: ['bomb:1'], diffIds: [sha256(bomb)] });
    await expectRefused(tar, new RegExp(`error: layer ${sha256(gz)}: more than 1048576 uncompressed bytes \\(limit TSBUILD_LAYER_MAX_BYTES`), { TSBUILD_LAYER_MAX_BYTES: '1M' });
  }, 60_000);

  test('TSBUILD_LAYER_MAX_ENTRIES stops a build unpacking a layer with too many entries; nothing is left unpacked', async () => {
    const entries: ArchiveEntry[] = [];
    for (let i = 0; i < 300; i++) entries.push({ name: `flood/${i}`, data: Buffer.alloc(0) });
    const flood = await tarOf(entries);
    const { tar } = await legacyArchive({ layers: [flood], repoTags: ['flood:1'] });
    const fr = 'flood';
    // `image load` unpacks what it stored at once (as docker load does): under the same limit its
    // unpack fails, the image stays stored, and the build's FROM meets the limit again.
    const limited = { TSBUILD_LAYER_MAX_ENTRIES: '100' };
    await ws.ok(fr, ['image', 'load'], { input: tar, env: limited });
    const ctx = await ws.context('from-flood', 'FROM flood:1\n');
    const r = await ws.run(fr, ['build', '--progress', 'plain', '-o', `type=local,dest=${ws.path('flood-out')}`, ctx], { env: limited });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`layer ${sha256(flood)}: more than 100 entries (limit TSBUILD_LAYER_MAX_ENTRIES`);
    expect(await ws.mounts()).toEqual([]);
    // No snapshot holds any of the flood: the half-applied one was removed.
    const snapshots = ws.path('roots', fr, 'overlay2');
    const ids = existsSync(snapshots) ? await readdir(snapshots) : [];
    expect(ids.filter((id) => existsSync(join(snapshots, id, 'diff', 'flood')))).toEqual([]);
    // With the default limits the same build works.
    await ws.ok(fr, ['build', '--progress', 'plain', '-o', `type=local,dest=${ws.path('flood-out2')}`, ctx]);
  }, 120_000);

  test('a bad TSBUILD_LAYER_MAX_* value is one clear error', async () => {
    const r = await ws.run(root, ['images'], { env: { TSBUILD_LAYER_MAX_ENTRIES: 'lots' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: TSBUILD_LAYER_MAX_ENTRIES="lots": expected a positive whole number (sizes may end in K, M, G or T)\n');
  });
});
