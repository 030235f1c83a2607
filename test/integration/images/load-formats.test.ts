/**
 * `tsbuild image load` of hand-made archives in every supported layout — Docker 20.10's legacy
 * `docker save` format (uncompressed layers, symlinked duplicate layers), OCI layouts with nested
 * indexes and both naming annotations — each then used by a real build; and every kind of broken
 * archive, each refused with one clear line, leaving the image store and content store as they were.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { haveBusybox } from '../../helpers/busybox.js';
import { cliPath } from '../../helpers/paths.js';
import { describeIf, isRoot } from '../../helpers/skip.js';
import { waitFor } from '../../helpers/wait-for.js';
import { fileLayer, hex, legacyArchive, ociImage, ociLayout, sha256, tarOf, writeArchive } from './archives.js';
import { Workspace } from './workspace.js';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describeIf(isRoot && haveBusybox, 'needs root and busybox-static', 'image load: archive formats', () => {
  let ws: Workspace;
  let busyboxLayer: Buffer;

  beforeAll(async () => {
    ws = await Workspace.create('load-formats');
    busyboxLayer = await readFile(await ws.busybox());
  }, 120_000);

  afterAll(async () => {
    await ws.finish();
  }, 60_000);

  test('Docker 20.10 legacy layout: manifest built, diff_ids checked, usable by FROM', async () => {
    const extra = await fileLayer('/legacy.txt', 'from a legacy archive\n');
    // The busybox layer twice: docker save stores the repeat as a symlink to the first.
    const { tar, configDigest } = await legacyArchive({ layers: [busyboxLayer, extra, busyboxLayer], repoTags: ['legacy:1', 'myorg/legacy:latest'], linkDuplicates: true });
    const file = await writeArchive(ws.path('legacy.tar'), tar);
    const r = await ws.ok('legacy', ['image', 'load', '-i', file]);
    expect(r.stdout).toBe('Loaded image: legacy:1\nLoaded image: myorg/legacy:latest\n');

    const inspect = JSON.parse((await ws.ok('legacy', ['inspect', 'legacy:1'])).stdout) as [{ Id: string; RootFS: { Layers: string[] }; RepoTags: string[] }];
    expect(inspect[0].Id).toBe(configDigest);
    expect(inspect[0].RootFS.Layers).toEqual([sha256(busyboxLayer), sha256(extra), sha256(busyboxLayer)]);
    expect(inspect[0].RepoTags).toEqual(['legacy:1', 'myorg/legacy:latest']);

    const ctx = await ws.context('from-legacy', 'FROM legacy:1\nRUN cat /legacy.txt > /seen.txt\n');
    const { dir } = await ws.buildToDir('legacy', ctx);
    expect(await readFile(join(dir, 'seen.txt'), 'utf8')).toBe('from a legacy archive\n');
  }, 180_000);

  test('OCI layout: nested index, other platforms absent, names from io.containerd.image.name and a full ref.name', async () => {
    const layer = await fileLayer('/oci.txt', 'from an OCI layout\n');
    const gz = gzipSync(layer);
    const img = ociImage([
      { blob: gzipSync(busyboxLayer), diffId: sha256(busyboxLayer), gzip: true },
      { blob: gz, diffId: sha256(layer), gzip: true },
    ], 'nested');
    // Inner index: an arm64 manifest whose blobs are not in the archive, and ours.
    const inner = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: sha256('not here'), size: 8, platform: { os: 'linux', architecture: 'arm64' } },
        { mediaType: OCI_MANIFEST, digest: img.manifestDigest, size: img.manifestSize, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    }));
    const blobs = new Map(img.blobs);
    blobs.set(sha256(inner), inner);
    const plain = ociImage([{ blob: busyboxLayer, diffId: sha256(busyboxLayer), gzip: false }], 'plain');
    for (const [d, b] of plain.blobs) blobs.set(d, b);
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_INDEX, digest: sha256(inner), size: inner.length, annotations: { 'io.containerd.image.name': 'docker.io/library/nested:1', 'org.opencontainers.image.ref.name': '1' } },
        { mediaType: OCI_MANIFEST, digest: plain.manifestDigest, size: plain.manifestSize, annotations: { 'org.opencontainers.image.ref.name': 'localhost:5000/refname:2' } },
        // Only a tag: no name, so the image is kept untagged.
        { mediaType: OCI_MANIFEST, digest: img.manifestDigest, size: img.manifestSize, annotations: { 'org.opencontainers.image.ref.name': 'latest' } },
      ],
    };
    const file = await writeArchive(ws.path('nested.tar'), await ociLayout(index, blobs));
    const r = await ws.ok('oci', ['image', 'load', file]);
    expect(r.stdout).toBe(`Loaded image: nested:1\nLoaded image: localhost:5000/refname:2\nLoaded image ID: ${img.configDigest}\n`);
    const images = (await ws.ok('oci', ['images', '--format', 'json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { Repository: string; Tag: string; Digest: string });
    expect(images.map((i) => `${i.Repository}:${i.Tag}`).sort()).toEqual(['<none>:<none>', 'localhost:5000/refname:2', 'nested:1']);
    // The name points at the inner index (the store resolves one index level).
    expect(ws.storedManifests('oci').get('docker.io/library/nested:1')).toBe(sha256(inner));

    const ctx = await ws.context('from-nested', 'FROM nested:1\nRUN cat /oci.txt > /seen.txt\n');
    const { dir } = await ws.buildToDir('oci', ctx);
    expect(await readFile(join(dir, 'seen.txt'), 'utf8')).toBe('from an OCI layout\n');
  }, 180_000);

  test('compressed archives and stdin', async () => {
    const extra = await fileLayer('/gz.txt', 'gz\n');
    const { tar } = await legacyArchive({ layers: [busyboxLayer, extra], repoTags: ['gz:1'] });
    const r = await ws.ok('gz', ['image', 'load'], { input: gzipSync(tar) });
    expect(r.stdout).toBe('Loaded image: gz:1\n');
    // Loading again changes nothing and stores nothing new.
    const before = await ws.blobs('gz');
    expect((await ws.ok('gz', ['image', 'load'], { input: tar })).stdout).toBe('Loaded image: gz:1\n');
    expect(await ws.blobs('gz')).toEqual(before);
  }, 120_000);

  describe('broken archives: one clear error, nothing half-loaded', () => {
    const root = 'broken';
    let blobsBefore: string[];
    let imagesBefore: string;

    beforeAll(async () => {
      const { tar } = await legacyArchive({ layers: [await fileLayer('/ok.txt', 'ok\n')], repoTags: ['good:1'] });
      await ws.ok(root, ['image', 'load'], { input: tar });
      blobsBefore = await ws.blobs(root);
      imagesBefore = (await ws.ok(root, ['images', '--format', 'json'])).stdout;
    }, 60_000);

    async function expectRefused(args: readonly string[], input: Buffer | undefined, message: RegExp): Promise<void> {
      const r = await ws.run(root, ['image', 'load', ...args], input ? { input } : {});
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(await ws.blobs(root)).toEqual(blobsBefore);
      expect(await ws.ingest(root)).toEqual([]);
      expect((await ws.ok(root, ['images', '--format', 'json'])).stdout).toBe(imagesBefore);
    }

    test('not a tar', async () => {
      await expectRefused([], Buffer.from('this is not an archive, just text that goes on long enough '.repeat(20)), /stdin: not a tar archive/);
    });

    test('empty input', async () => {
      await expectRefused([], Buffer.alloc(0), /requested load from stdin, but stdin is empty/);
    });

    test('a tar without manifest.json or index.json', async () => {
      await expectRefused([], await tarOf([{ name: 'hello.txt', data: Buffer.from('hi') }]), /neither manifest\.json \(docker save\) nor index\.json/);
    });

    test('a layer manifest.json names is missing', async () => {
      const { tar } = await legacyArchive({ layers: [await fileLayer('/a', 'a'), await fileLayer('/b', 'b')], repoTags: ['missing:1'], omitLayers: [1] });
      await expectRefused([], tar, /manifest\.json\[0\]: [0-9a-f]{64}\/layer\.tar is referenced but not in the archive/);
    });

    test('a blob index.json references is missing', async () => {
      const img = ociImage([{ blob: await fileLayer('/c', 'c'), diffId: sha256(await fileLayer('/c', 'c')), gzip: false }], 'm');
      const blobs = new Map(img.blobs);
      blobs.delete(img.configDigest);
      const index = { schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, digest: img.manifestDigest, size: img.manifestSize, annotations: { 'io.containerd.image.name': 'missing:2' } }] };
      await expectRefused([], await ociLayout(index, blobs), new RegExp(`config: blob ${img.configDigest} is referenced but not in the archive`));
    });

    test('a blob whose content does not match its name', async () => {
      const layer = await fileLayer('/d', 'd');
      const img = ociImage([{ blob: layer, diffId: sha256(layer), gzip: false }], 'tampered');
      const blobs = new Map(img.blobs);
      blobs.set(sha256(layer), await fileLayer('/d', 'tampered'));
      const index = { schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, digest: img.manifestDigest, size: img.manifestSize }] };
      await expectRefused([], await ociLayout(index, blobs), new RegExp(`blobs/sha256/${hex(sha256(layer))}: content does not match its digest \\(it hashes to sha256:[0-9a-f]{64}\\)`));
    });

    test('config diff_ids that do not match the layers', async () => {
      const layer = await fileLayer('/e', 'e');
      const { tar } = await legacyArchive({ layers: [layer], repoTags: ['diffid:1'], diffIds: [sha256('something else')] });
      await expectRefused([], tar, /manifest\.json\[0\]: layer 1 \(sha256:[0-9a-f]{64}\) has diff_id sha256:[0-9a-f]{64}, but the config's rootfs\.diff_ids says sha256:/);
    });

    test('invalid JSON in manifest.json', async () => {
      await expectRefused([], await tarOf([{ name: 'manifest.json', data: Buffer.from('[{"Config": ') }]), /manifest\.json: invalid JSON/);
    });

    test('an invalid name in RepoTags', async () => {
      const { tar } = await legacyArchive({ layers: [await fileLayer('/f', 'f')], repoTags: ['Not A Valid Name'] });
      await expectRefused([], tar, /invalid RepoTags entry "Not A Valid Name"/);
    });

    test('a truncated archive', async () => {
      const { tar } = await legacyArchive({ layers: [busyboxLayer], repoTags: ['cut:1'] });
      await expectRefused([], tar.subarray(0, Math.floor(tar.length / 2) + 100), /stdin: the archive is truncated/);
    });

    test('an interrupted load (SIGINT mid-blob) stops at once and leaves nothing behind', async () => {
      const { tar } = await legacyArchive({ layers: [busyboxLayer], repoTags: ['interrupted:1'] });
      const child = spawn(process.execPath, [cliPath, '--root', ws.root(root), 'image', 'load'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.stdin.on('error', () => undefined); // EPIPE once the load has stopped reading
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // A hang must fail the test, not outlive it.
      const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
      try {
        // Half the layer, and then the writer stalls: the load is inside a blob write.
        child.stdin.write(tar.subarray(0, 4096 + Math.floor(busyboxLayer.length / 2)));
        await waitFor(async () => (await ws.ingest(root)).length > 0, { what: 'the load to start writing the layer blob', timeoutMs: 15_000, intervalMs: 20 });
        expect((await ws.ingest(root)).length).toBe(1);
        child.kill('SIGINT');
        expect(await exited).toBe(130);
      } finally {
        clearTimeout(guard);
        child.stdin.destroy();
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      expect(stderr).toMatch(/^error: cancelled: received SIGINT\n$/);
      expect(await ws.blobs(root)).toEqual(blobsBefore);
      expect(await ws.ingest(root)).toEqual([]);
      expect((await ws.ok(root, ['images', '--format', 'json'])).stdout).toBe(imagesBefore);
    }, 60_000);

    test('a bad archive on a stdin that stays open still ends the command', async () => {
      const child = spawn(process.execPath, [cliPath, '--root', ws.root(root), 'image', 'load'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.stdin.on('error', () => undefined);
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
      try {
        child.stdin.write(Buffer.from('not a tar archive at all '.repeat(100)));
        expect(await exited).toBe(1);
      } finally {
        clearTimeout(guard);
        child.stdin.destroy();
      }
      expect(stderr).toBe('error: stdin: not a tar archive (an image archive from docker save or an OCI layout tar is expected)\n');
    }, 60_000);

    test('a missing file, and usage errors', async () => {
      await expectRefused(['-i', ws.path('nope.tar')], undefined, /open .*nope\.tar: no such file or directory/);
      const both = await ws.run(root, ['image', 'load', '-i', 'a.tar', 'b.tar']);
      expect(both.code).toBe(2);
      expect(both.stderr).toMatch(/either with -i or as an argument/);
    });
  });
});
