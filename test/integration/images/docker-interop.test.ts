/**
 * Interop with the real tools (issue 5 acceptance): a `docker save` from Docker 20.10 loads into
 * tsbuild and a tsbuild build FROM it reads what the docker build wrote; tsbuild's `type=docker`
 * archive loads into Docker (and `docker run` prints what a tsbuild RUN step wrote) and into podman;
 * `tsbuild save -o` writes an archive `docker load` reads, keeping the image ID.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { haveBusybox } from '../../helpers/busybox.js';
import { dockerdMissingWhy, haveDockerd, startDockerd, unmountAndRemove, type Dockerd } from '../../helpers/dockerd.js';
import { describeIf, haveBinary, testIf } from '../../helpers/skip.js';
import { readTarEntries } from './archives.js';
import { Workspace } from './workspace.js';

describeIf(haveDockerd && haveBusybox, haveBusybox ? dockerdMissingWhy : 'needs busybox-static', 'image archives: Docker 20.10 and podman interop', () => {
  let ws: Workspace;
  let dockerd: Dockerd;
  let tsbuildArchive: string;

  beforeAll(async () => {
    ws = await Workspace.create('interop');
    dockerd = await startDockerd();
    await dockerd.dockerOk(['import', await ws.busybox(), 'bbase:latest']);
    await ws.importBusybox('ts');
    const ctx = await ws.context('ts-app', 'FROM busybox\nRUN echo "written by a tsbuild RUN step" > /ts.txt\nCMD ["cat", "/ts.txt"]\n');
    tsbuildArchive = ws.path('ts-app.tar');
    await ws.ok('ts', ['build', '--progress', 'plain', '-t', 'tsapp:1', '-o', `type=docker,dest=${tsbuildArchive}`, ctx]);
  }, 240_000);

  afterAll(async () => {
    await dockerd?.stop();
    await ws.finish();
  }, 120_000);

  test('docker save (legacy format) → tsbuild image load → tsbuild build FROM it', async () => {
    const ctx = await ws.context('docker-app', 'FROM bbase\nRUN mkdir -p /data && echo "written by docker build" > /data/docker.txt\nENV FROM_DOCKER=yes\n');
    await dockerd.dockerOk(['build', '--network=host', '-t', 'dockerapp:1', ctx]);
    const saved = ws.path('docker-save.tar');
    await dockerd.dockerOk(['save', '-o', saved, 'dockerapp:1']);
    // Really the legacy layout: a "<hex>.json" config and "<id>/layer.tar" layers, no index.json.
    const entries = await readTarEntries(saved);
    const manifest = JSON.parse(entries.get('manifest.json')?.toString() ?? '[]') as [{ Config: string; Layers: string[] }];
    expect(manifest[0].Config).toMatch(/^[0-9a-f]{64}\.json$/);
    expect(manifest[0].Layers.every((l) => /^[0-9a-f]{64}\/layer\.tar$/.test(l))).toBe(true);
    expect(entries.has('index.json')).toBe(false);

    expect((await ws.ok('fromdocker', ['image', 'load', '-i', saved])).stdout).toBe('Loaded image: dockerapp:1\n');
    const dockerId = (await dockerd.dockerOk(['image', 'inspect', '--format', '{{.Id}}', 'dockerapp:1'])).trim();
    const ours = JSON.parse((await ws.ok('fromdocker', ['inspect', 'dockerapp:1'])).stdout) as [{ Id: string; Config: { Env: string[] } }];
    expect(ours[0].Id).toBe(dockerId);
    expect(ours[0].Config.Env).toContain('FROM_DOCKER=yes');

    const use = await ws.context('uses-docker-image', 'FROM dockerapp:1\nRUN cat /data/docker.txt > /seen.txt && echo "$FROM_DOCKER" >> /seen.txt\n');
    const { dir } = await ws.buildToDir('fromdocker', use);
    expect(await readFile(join(dir, 'seen.txt'), 'utf8')).toBe('written by docker build\nyes\n');
  }, 300_000);

  test('tsbuild type=docker archive → docker load → docker run prints what RUN wrote', async () => {
    const loaded = await dockerd.dockerOk(['load', '-i', tsbuildArchive]);
    expect(loaded).toMatch(/Loaded image: tsapp:1/);
    const out = await dockerd.dockerOk(['run', '--rm', '--network=none', 'tsapp:1']);
    expect(out).toBe('written by a tsbuild RUN step\n');
  }, 300_000);

  test('tsbuild save -o → docker load: the same image ID, and docker run prints what RUN wrote', async () => {
    const ctx = await ws.context('ts-saved', 'FROM busybox\nRUN echo "saved by tsbuild save" > /saved.txt\nCMD ["cat", "/saved.txt"]\n');
    const id = (await ws.ok('ts', ['build', '-q', '-t', 'tssaved:2', ctx])).stdout.trim();
    const file = ws.path('tssaved.tar');
    await ws.ok('ts', ['save', '-o', file, 'tssaved:2']);
    expect(await dockerd.dockerOk(['load', '-i', file])).toMatch(/Loaded image: tssaved:2/);
    expect((await dockerd.dockerOk(['image', 'inspect', '--format', '{{.Id}}', 'tssaved:2'])).trim()).toBe(id);
    expect(await dockerd.dockerOk(['run', '--rm', '--network=none', 'tssaved:2'])).toBe('saved by tsbuild save\n');
  }, 300_000);

  test('inspect of the same build: tsbuild shows the fields Docker does, with the same values where builds agree', async () => {
    const dockerfile = 'FROM %BASE%\nWORKDIR /w\nRUN echo same > /w/same.txt\nENV K=v\nLABEL l=1\nEXPOSE 80\nUSER 1:1\nCMD ["sh"]\n';
    const dctx = await ws.context('inspect-docker', dockerfile.replace('%BASE%', 'bbase'));
    await dockerd.dockerOk(['build', '--network=host', '-t', 'cmp:1', dctx]);
    const tctx = await ws.context('inspect-ts', dockerfile.replace('%BASE%', 'busybox'));
    await ws.ok('ts', ['build', '-q', '-t', 'cmp:1', tctx]);
    const [docker] = JSON.parse(await dockerd.dockerOk(['image', 'inspect', 'cmp:1'])) as [Record<string, unknown>];
    const [ours] = JSON.parse((await ws.ok('ts', ['inspect', 'cmp:1'])).stdout) as [Record<string, unknown>];
    // Docker-only fields of its legacy builder (empty for BuildKit builds): see docs/commands.md.
    const dockerOnly = ['Container', 'ContainerConfig'];
    expect(Object.keys(ours).sort()).toEqual(Object.keys(docker ?? {}).filter((k) => !dockerOnly.includes(k)).sort());
    for (const k of ['RepoTags', 'Parent', 'Comment', 'DockerVersion', 'Author', 'Config', 'Architecture', 'Os', 'Variant']) {
      expect({ k, v: ours?.[k] }).toEqual({ k, v: docker?.[k] });
    }
    const layers = (i: Record<string, unknown> | undefined): number => ((i?.['RootFS'] as { Layers: string[] }).Layers).length;
    expect(layers(ours)).toBe(layers(docker));
    expect(ours?.['Size']).toBe(docker?.['Size']);
  }, 300_000);

  describe('podman', () => {
    testIf(haveBinary('podman'), 'podman is not installed', 'tsbuild type=docker archive → podman load', async () => {
      const dir = await mkdtemp(join(ws.dir, 'podman-'));
      const podman = (args: readonly string[]): Promise<string> => new Promise((resolve, reject) => {
        execFile('podman', ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver=vfs', '--cgroup-manager=cgroupfs', '--events-backend=none', ...args],
          { env: { ...process.env, XDG_RUNTIME_DIR: join(dir, 'xdg'), CONTAINERS_CONF: '/dev/null' }, maxBuffer: 16 * 1024 * 1024 },
          (err, stdout, stderr) => (err ? reject(new Error(`podman ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
      });
      try {
        const out = await podman(['load', '-i', tsbuildArchive]);
        expect(out).toMatch(/Loaded image(\(s\))?: .*tsapp:1/);
        const inspect = JSON.parse(await podman(['image', 'inspect', 'tsapp:1'])) as [{ Config: { Cmd: string[] }; RootFS: { Layers: string[] } }];
        expect(inspect[0].Config.Cmd).toEqual(['cat', '/ts.txt']);
        expect(inspect[0].RootFS.Layers).toHaveLength(2);
      } finally {
        await unmountAndRemove(dir);
      }
    }, 300_000);
  });
});
