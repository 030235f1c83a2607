/**
 * tsbuild's own archives go back in: an image built on root A and written with
 * `-o type=docker` and `-o type=oci` loads into root B (by file and by stdin), keeps its manifest
 * digest, and a build on B FROM it sees what A's RUN step wrote. Untagged archives load as
 * `<none>` images that can be tagged by ID.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { haveBusybox } from '../../helpers/busybox.js';
import { describeIf, isRoot } from '../../helpers/skip.js';
import { readTarEntries } from './archives.js';
import { Workspace } from './workspace.js';

interface ImageRow { Repository: string; Tag: string; ID: string; Digest: string }

function rows(stdout: string): ImageRow[] {
  return stdout.trim() === '' ? [] : stdout.trim().split('\n').map((l) => JSON.parse(l) as ImageRow);
}

describeIf(isRoot && haveBusybox, 'needs root and busybox-static', 'image load of tsbuild archives', () => {
  let ws: Workspace;
  let dockerTar: string;
  let ociTar: string;
  let manifestDigest: string;

  beforeAll(async () => {
    ws = await Workspace.create('roundtrip');
    await ws.importBusybox('a');
    const ctx = await ws.context('app', 'FROM busybox\nRUN echo "written on A" > /a.txt\nCMD ["cat", "/a.txt"]\n');
    dockerTar = ws.path('app-docker.tar');
    ociTar = ws.path('app-oci.tar');
    const meta = ws.path('meta.json');
    await ws.ok('a', ['build', '--progress', 'plain', '-t', 'app:1', '-t', 'registry.example:5000/team/app:2', '--metadata-file', meta,
      '-o', `type=docker,dest=${dockerTar}`, '-o', `type=oci,dest=${ociTar}`, ctx]);
    // The manifest digest (the image ID, in --iidfile, is the config digest).
    manifestDigest = (JSON.parse(await readFile(meta, 'utf8')) as Record<string, string>)['containerimage.digest'] as string;
  }, 180_000);

  afterAll(async () => {
    await ws.finish();
  }, 60_000);

  test('type=docker archive: load with -i, then build FROM it', async () => {
    const r = await ws.ok('b', ['image', 'load', '-i', dockerTar]);
    expect(r.stdout).toBe('Loaded image: app:1\nLoaded image: registry.example:5000/team/app:2\n');
    const images = rows((await ws.ok('b', ['images', '--format', 'json'])).stdout);
    expect(images.map((i) => `${i.Repository}:${i.Tag}`).sort()).toEqual(['app:1', 'registry.example:5000/team/app:2']);
    // The manifest from the archive's index.json is kept as it was built.
    expect(new Set(ws.storedManifests('b').values())).toEqual(new Set([manifestDigest]));

    const ctx = await ws.context('on-b', 'FROM registry.example:5000/team/app:2\nRUN cat /a.txt > /b.txt && echo "built on B" >> /b.txt\n');
    const { dir } = await ws.buildToDir('b', ctx);
    expect(await readFile(join(dir, 'b.txt'), 'utf8')).toBe('written on A\nbuilt on B\n');
  }, 180_000);

  test('type=oci archive: load from stdin, then build FROM it', async () => {
    const r = await ws.ok('c', ['image', 'load'], { input: await readFile(ociTar) });
    expect(r.stdout).toBe('Loaded image: app:1\nLoaded image: registry.example:5000/team/app:2\n');
    const ctx = await ws.context('on-c', 'FROM app:1\nRUN cat /a.txt > /c.txt\n');
    const { dir } = await ws.buildToDir('c', ctx);
    expect(await readFile(join(dir, 'c.txt'), 'utf8')).toBe('written on A\n');
  }, 180_000);

  test('an untagged archive loads as <none>, addressable and taggable by ID', async () => {
    const ctx = await ws.context('untagged', 'FROM busybox\nRUN echo untagged > /u.txt\n');
    const tar = ws.path('untagged.tar');
    await ws.ok('a', ['build', '--progress', 'plain', '-o', `type=docker,dest=${tar}`, ctx]);
    const manifest = JSON.parse((await readTarEntries(tar)).get('manifest.json')?.toString() ?? '[]') as [{ Config: string; RepoTags: string[] }];
    expect(manifest[0].RepoTags).toEqual([]);
    const configDigest = `sha256:${manifest[0].Config.split('/').at(-1) as string}`;

    expect((await ws.ok('d', ['image', 'load', '-i', tar])).stdout).toBe(`Loaded image ID: ${configDigest}\n`);
    const short = configDigest.slice('sha256:'.length, 'sha256:'.length + 12);
    expect(rows((await ws.ok('d', ['images', '--format', 'json'])).stdout)).toEqual([expect.objectContaining({ Repository: '<none>', Tag: '<none>', ID: short })]);
    expect((await ws.ok('d', ['history', short])).stdout).toMatch(new RegExp(`^IMAGE .*\\n${short} `));

    await ws.ok('d', ['tag', short, 'named:1']);
    expect(rows((await ws.ok('d', ['images', '--format', 'json'])).stdout)).toEqual([expect.objectContaining({ Repository: 'named', Tag: '1', ID: short })]);
    const { dir } = await ws.buildToDir('d', await ws.context('from-named', 'FROM named:1\nRUN cp /u.txt /v.txt\n'));
    expect(await readFile(join(dir, 'v.txt'), 'utf8')).toBe('untagged\n');
  }, 180_000);
});
