/**
 * The image commands through the real CLI on real builds: images, tag, rmi, history, inspect —
 * docker's output shapes, their JSON forms, and their errors (one line, exit 1; usage errors exit 2).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { haveBusybox } from '../../helpers/busybox.js';
import { describeIf, isRoot } from '../../helpers/skip.js';
import { stepCounts, Workspace } from './workspace.js';

interface Inspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: string;
  Config: { Cmd?: string[]; Env?: string[]; WorkingDir?: string };
  Architecture: string;
  Os: string;
  Size: number;
  RootFS: { Type: string; Layers: string[] };
  GraphDriver: { Name: string; Data: { LowerDir?: string; UpperDir: string; MergedDir: string; WorkDir: string } | null };
}

const DOCKERFILE = [
  'FROM busybox',
  'WORKDIR /app',
  'RUN printf hello > /app/hello.txt',
  'ENV GREETING=hi',
  'RUN printf "%s" "abcdefghij" > /app/ten.txt && ln -s /app/ten.txt /app/link',
  'CMD ["cat", "/app/hello.txt"]',
  '',
].join('\n');

describeIf(isRoot && haveBusybox, 'needs root and busybox-static', 'image commands', () => {
  let ws: Workspace;
  const root = 'main';
  let imageId: string;
  let manifestDigest: string;

  beforeAll(async () => {
    ws = await Workspace.create('image-cmds');
    await ws.importBusybox(root);
    const ctx = await ws.context('app', DOCKERFILE);
    const meta = ws.path('meta.json');
    await ws.ok(root, ['build', '--progress', 'plain', '-t', 'app', '--metadata-file', meta, ctx]);
    const m = JSON.parse(await readFile(meta, 'utf8')) as Record<string, string>;
    imageId = m['containerimage.config.digest'] as string;
    manifestDigest = m['containerimage.digest'] as string;
  }, 180_000);

  afterAll(async () => {
    await ws.finish();
  }, 60_000);

  test('every command has --help', async () => {
    for (const cmd of [['images'], ['rmi'], ['tag'], ['history'], ['inspect'], ['image', 'load'], ['du'], ['prune'], ['cache', 'check']]) {
      const r = await ws.run(root, [...cmd, '--help']);
      expect({ cmd, code: r.code }).toEqual({ cmd, code: 0 });
      expect(r.stdout).toMatch(new RegExp(`^Usage: tsbuild ${cmd.join(' ')} `));
    }
  }, 120_000);

  describe('images', () => {
    test('table like docker images', async () => {
      const out = (await ws.ok(root, ['images'])).stdout;
      const lines = out.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^app\\s+latest\\s+${imageId.slice(7, 19)}\\s+(Less than a second|1 second|\\d+ seconds|About a minute|\\d+ minutes) ago\\s+\\d+(\\.\\d+)?MB$`)));
      expect(lines).toContainEqual(expect.stringMatching(/^busybox\s+latest\s+[0-9a-f]{12}\s+.+ ago\s+\d+(\.\d+)?MB$/));
      // Columns line up: every row starts its IMAGE ID column where the header does.
      const col = (lines[0] as string).indexOf('IMAGE ID');
      for (const l of lines.slice(1)) expect(l.slice(col, col + 12)).toMatch(/^[0-9a-f]{12}$/);
    });

    test('-q, --digests, --no-trunc, --format json and a REPOSITORY filter', async () => {
      const q = (await ws.ok(root, ['images', '-q', 'app'])).stdout;
      expect(q).toBe(`${imageId.slice(7, 19)}\n`);
      expect((await ws.ok(root, ['images', '-q', '--no-trunc', 'app:latest'])).stdout).toBe(`${imageId}\n`);
      expect((await ws.ok(root, ['images', '-q', 'app:nope'])).stdout).toBe('');
      const d = (await ws.ok(root, ['images', '--digests', 'app'])).stdout.split('\n');
      expect(d[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID/);
      // Never pushed or pulled: no RepoDigest, so docker's DIGEST is <none> (the manifest digest is not a RepoDigest).
      expect(d[1]).toMatch(/^app\s+latest\s+<none>\s+/);
      expect(d[1]).not.toContain(manifestDigest);
      const json = (await ws.ok(root, ['images', '--format', 'json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
      expect(json.find((j) => j.Repository === 'app')).toEqual(expect.objectContaining({ Tag: 'latest', ID: imageId.slice(7, 19), Digest: '<none>' }));
      expect(json.find((j) => j.Repository === 'app')?.Size).toMatch(/^\d+(\.\d+)?MB$/);
    });

    test('bad usage', async () => {
      const r = await ws.run(root, ['images', '--format', 'yaml']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/invalid value "yaml" for --format: expected one of table, json/);
      const bad = await ws.run(root, ['images', 'UPPER']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toBe('error: invalid reference format: repository name must be lowercase: "UPPER"\n');
    });
  });

  describe('history', () => {
    test('rows like docker history: newest first, image ID on top, <missing> below, layer sizes', async () => {
      const out = (await ws.ok(root, ['history', 'app'])).stdout.trimEnd().split('\n');
      expect(out[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
      const rows = out.slice(1);
      // CMD, RUN (ten + link), ENV, RUN (hello), WORKDIR, and the imported base layer.
      expect(rows).toHaveLength(6);
      expect(rows[0]).toMatch(new RegExp(`^${imageId.slice(7, 19)}\\s+.+ ago\\s+CMD \\["cat" "/app/hello.txt"\\]\\s+0B\\s+buildkit\\.dockerfile\\.v0$`));
      for (const r of rows.slice(1)) expect(r).toMatch(/^<missing>\s/);
      // 10 bytes of file plus the 12-byte symlink target; 5 bytes of hello.
      expect(rows[1]).toMatch(/RUN \/bin\/sh -c printf "%s" "abcdefghij" > \/a…\s+22B\s/);
      expect(rows[2]).toMatch(/ENV GREETING=hi\s+0B\s/);
      expect(rows[3]).toMatch(/RUN \/bin\/sh -c printf hello > \/app\/hello.txt…\s+5B\s/);
      // A layer holding only the /app directory has no file content.
      expect(rows[4]).toMatch(/WORKDIR \/app\s+0B\s/);
      expect(rows[5]).toMatch(/\s\d+(\.\d+)?MB\s+Imported from .*busybox\.tar$/);
    });

    test('--no-trunc, --human=false, -q and --format json', async () => {
      const full = (await ws.ok(root, ['history', '--no-trunc', 'app'])).stdout;
      expect(full).toContain(`${imageId} `);
      expect(full).toContain('RUN /bin/sh -c printf "%s" "abcdefghij" > /app/ten.txt && ln -s /app/ten.txt /app/link # buildkit');
      const raw = (await ws.ok(root, ['history', '--human=false', 'app'])).stdout.split('\n');
      expect(raw[2]).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\s+RUN .*\s22\s/);
      expect((await ws.ok(root, ['history', '-q', 'app'])).stdout.split('\n').slice(0, 2)).toEqual([imageId.slice(7, 19), '<missing>']);
      const json = (await ws.ok(root, ['history', '--format', 'json', 'app'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
      expect(json).toHaveLength(6);
      expect(json[0]).toEqual(expect.objectContaining({ ID: imageId.slice(7, 19), CreatedBy: 'CMD ["cat" "/app/hello.txt"]', Size: '0B', Comment: 'buildkit.dockerfile.v0' }));
      expect(json[0]?.CreatedSince).toMatch(/ ago$/);
    });

    test('by image ID; unknown image and missing argument', async () => {
      expect((await ws.ok(root, ['history', '-q', imageId.slice(7, 15)])).stdout.split('\n')[0]).toBe(imageId.slice(7, 19));
      const r = await ws.run(root, ['history', 'nope']);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: 'error: No such image: nope\n' });
      const u = await ws.run(root, ['history']);
      expect(u.code).toBe(2);
      expect(u.stderr).toMatch(/requires exactly 1 argument/);
    });
  });

  describe('inspect', () => {
    test('docker inspect fields; GraphDriver points at the real overlay2 directories', async () => {
      const [img] = JSON.parse((await ws.ok(root, ['inspect', 'app'])).stdout) as Inspect[];
      if (!img) throw new Error('no inspect output');
      expect(img.Id).toBe(imageId);
      expect(img.RepoTags).toEqual(['app:latest']);
      expect(img.RepoDigests).toEqual([]);
      expect(img.Config.Cmd).toEqual(['cat', '/app/hello.txt']);
      expect(img.Config.Env).toContain('GREETING=hi');
      expect(img.Config.WorkingDir).toBe('/app');
      expect([img.Architecture, img.Os]).toEqual(['amd64', 'linux']);
      expect(img.RootFS.Type).toBe('layers');
      // Size is file content: the base plus hello (5), ten.txt (10) and the link's target (12).
      const [base] = JSON.parse((await ws.ok(root, ['inspect', 'busybox'])).stdout) as Inspect[];
      expect(img.Size).toBe((base?.Size ?? 0) + 5 + 10 + '/app/ten.txt'.length);
      // busybox, WORKDIR's /app, and the two RUN steps.
      expect(img.RootFS.Layers).toHaveLength(4);
      expect(img.GraphDriver.Name).toBe('overlay2');
      const data = img.GraphDriver.Data;
      if (!data) throw new Error('no GraphDriver data');
      expect(data.UpperDir).toMatch(new RegExp(`^${ws.root(root)}/overlay2/[0-9a-f]{64}/diff$`));
      // The top layer's own files are in UpperDir; the lower layers hold the rest.
      expect(await readFile(join(data.UpperDir, 'app', 'ten.txt'), 'utf8')).toBe('abcdefghij');
      const lowers = (data.LowerDir ?? '').split(':');
      expect(lowers.length).toBeGreaterThanOrEqual(2);
      expect(lowers.some((l) => existsSync(join(l, 'app', 'hello.txt')))).toBe(true);
      expect(lowers.some((l) => existsSync(join(l, 'bin', 'busybox')))).toBe(true);
    });

    test('an image loaded but never built on shows GraphDriver (load unpacks it, as docker load does)', async () => {
      const tar = ws.path('app.tar');
      await ws.ok(root, ['build', '--progress', 'plain', '-t', 'app', '-o', `type=docker,dest=${tar}`, await ws.context('app', DOCKERFILE)]);
      await ws.ok('fresh', ['image', 'load', '-i', tar]);
      expect(existsSync(join(ws.root('fresh'), 'overlay2'))).toBe(true);
      const [img] = JSON.parse((await ws.ok('fresh', ['inspect', 'app:latest'])).stdout) as Inspect[];
      const data = img?.GraphDriver.Data;
      if (!data) throw new Error('no GraphDriver data');
      expect(await readFile(join(data.UpperDir, 'app', 'ten.txt'), 'utf8')).toBe('abcdefghij');
      // A build FROM it then reuses those snapshots instead of unpacking again.
      const r = await ws.ok('fresh', ['build', '--progress', 'plain', await ws.context('reuse', 'FROM app\nRUN cat /app/hello.txt\n')]);
      expect(r.stderr).not.toMatch(/extracting sha256/);
    }, 120_000);

    test('several images; unknown ones fail with exit 1 after printing the rest', async () => {
      const r = await ws.run(root, ['inspect', 'app', 'nope', imageId]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('error: No such image: nope\n');
      const out = JSON.parse(r.stdout) as Inspect[];
      expect(out.map((i) => i.Id)).toEqual([imageId, imageId]);
      const none = await ws.run(root, ['inspect', 'nope']);
      expect({ code: none.code, stdout: none.stdout }).toEqual({ code: 1, stdout: '[]\n' });
    });
  });

  describe('tag and rmi', () => {
    test('tag adds names; errors', async () => {
      await ws.ok(root, ['tag', 'app', 'app:v2']);
      await ws.ok(root, ['tag', imageId.slice(7, 19), 'localhost:5000/team/app:v3']);
      const q = (await ws.ok(root, ['images', '--format', 'json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
      expect(q.filter((i) => i.ID === imageId.slice(7, 19)).map((i) => `${i.Repository}:${i.Tag}`).sort()).toEqual(['app:latest', 'app:v2', 'localhost:5000/team/app:v3']);

      const missing = await ws.run(root, ['tag', 'nope', 'x']);
      expect({ code: missing.code, stderr: missing.stderr }).toEqual({ code: 1, stderr: 'error: No such image: nope\n' });
      const bad = await ws.run(root, ['tag', 'app', 'Bad Name']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toBe('error: invalid reference format: repository name must be lowercase: "Bad Name"\n');
      const usage = await ws.run(root, ['tag', 'app']);
      expect(usage.code).toBe(2);
    });

    test('rmi untags; by ID needs -f when several names; the last name deletes the image', async () => {
      const one = await ws.ok(root, ['rmi', 'app:v2']);
      expect(one.stdout).toBe('Untagged: app:v2\n');

      const conflict = await ws.run(root, ['rmi', imageId.slice(7, 19)]);
      expect(conflict.code).toBe(1);
      expect(conflict.stderr).toBe(`error: conflict: unable to delete ${imageId.slice(7, 19)} (must be forced) - image is referenced in multiple repositories\n`);

      const some = await ws.run(root, ['rmi', 'nope', 'localhost:5000/team/app:v3']);
      expect(some.code).toBe(1);
      expect(some.stderr).toBe('error: No such image: nope\n');
      expect(some.stdout).toBe('Untagged: localhost:5000/team/app:v3\n');

      const blobsBefore = await ws.blobs(root);
      const last = await ws.ok(root, ['rmi', 'app']);
      expect(last.stdout.split('\n')[0]).toBe('Untagged: app:latest');
      expect(last.stdout).toContain(`Deleted: ${imageId}\n`);
      expect(last.stdout).toContain(`Deleted: ${manifestDigest}\n`);
      const blobsAfter = await ws.blobs(root);
      expect(blobsAfter).not.toContain(manifestDigest.slice(7));
      expect(blobsAfter.length).toBeLessThan(blobsBefore.length);
      expect((await ws.ok(root, ['images', '-q', 'app'])).stdout).toBe('');

      // The build cache keeps the layers: rebuilding is fully cached and the image comes back.
      const r = await ws.ok(root, ['build', '--progress', 'plain', '-t', 'app', await ws.context('app', DOCKERFILE)]);
      expect(stepCounts(r.stderr).executed).toBe(0);
      expect((await ws.ok(root, ['images', '-q', 'app'])).stdout).not.toBe('');
    }, 120_000);

    test('rmi -f by ID removes every name', async () => {
      // The rebuild above made a new image (its created time differs).
      const id = (await ws.ok(root, ['images', '-q', '--no-trunc', 'app'])).stdout.trim();
      await ws.ok(root, ['tag', 'app', 'other:1']);
      const r = await ws.ok(root, ['rmi', '-f', id]);
      expect(r.stdout).toMatch(new RegExp(`^Untagged: app:latest\nUntagged: other:1\nDeleted: ${id}\n`));
      expect((await ws.ok(root, ['images', '-q', '--no-trunc'])).stdout).not.toContain(id);
      const usage = await ws.run(root, ['rmi']);
      expect(usage.code).toBe(2);
    });
  });
});
