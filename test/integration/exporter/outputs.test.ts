/**
 * Issue 5 outputs through the real CLI: OCI and docker archives whose documents validate against the
 * OCI schemas, local directories, plain tars, --iidfile/--metadata-file, and reproducible digests
 * with SOURCE_DATE_EPOCH on fresh data roots.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeIf, isRoot, haveBinary, partIf } from '../../helpers/skip.js';
import { schemaDir, validateOci } from '../../helpers/oci-validate.js';
import { makeBuildEnv, mountsUnder, type BuildEnv } from '../../helpers/build-env.js';

const dockerfile = [
  'FROM localhost/busybox:latest',
  'ENV APP=/app',
  'WORKDIR /app',
  'COPY hello.txt .',
  'RUN echo built > built.txt && chmod 0750 built.txt',
  'LABEL org.example.kind=test',
  'EXPOSE 8080/tcp',
  'CMD ["cat", "/app/hello.txt"]',
  '',
].join('\n');

function untar(file: string, dir: string): void {
  execFileSync('tar', ['-xf', file, '-C', dir]);
}

describeIf(isRoot && haveBinary('runc'), 'needs root and runc', 'build outputs', () => {
  let env: BuildEnv;
  let ctx: string;
  beforeAll(async () => {
    env = await makeBuildEnv();
    ctx = await env.context('app', { Dockerfile: dockerfile, 'hello.txt': 'hello\n' });
  });
  afterAll(async () => {
    expect(await mountsUnder(env.dir)).toEqual([]);
    await env.cleanup();
  });

  test('type=oci writes an OCI layout whose index, manifest and config validate against the OCI schemas', async () => {
    const out = join(env.dir, 'oci.tar');
    const r = await env.run(['build', '--progress=quiet', '-t', 'app:1', '-o', `type=oci,dest=${out}`, ctx]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const dir = join(env.dir, 'oci');
    await mkdir(dir);
    untar(out, dir);
    expect(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const blob = (d: string): Promise<Buffer> => readFile(join(dir, 'blobs', 'sha256', d.slice('sha256:'.length)));
    const indexText = await readFile(join(dir, 'index.json'));
    const index = JSON.parse(indexText.toString()) as { manifests: Array<{ digest: string; annotations: Record<string, string> }> };
    expect(index.manifests[0]?.annotations['io.containerd.image.name']).toBe('docker.io/library/app:1');
    const manifestBytes = await blob(index.manifests[0]!.digest);
    const manifest = JSON.parse(manifestBytes.toString()) as { config: { digest: string }; layers: Array<{ digest: string }> };
    const configBytes = await blob(manifest.config.digest);
    const config = JSON.parse(configBytes.toString()) as { config: Record<string, unknown>; rootfs: { diff_ids: string[] }; history: Array<{ empty_layer?: boolean }> };
    if (partIf(existsSync(schemaDir), `no OCI schemas at ${schemaDir}`, 'OCI schema validation of the oci output')) {
      expect(validateOci('application/vnd.oci.image.index.v1+json', indexText)).toEqual([]);
      expect(validateOci('application/vnd.oci.image.manifest.v1+json', manifestBytes)).toEqual([]);
      expect(validateOci('application/vnd.oci.image.config.v1+json', configBytes)).toEqual([]);
    }
    expect(config.config).toMatchObject({ Env: expect.arrayContaining(['APP=/app']), WorkingDir: '/app', Cmd: ['cat', '/app/hello.txt'], ExposedPorts: { '8080/tcp': {} }, Labels: { 'org.example.kind': 'test' } });
    expect(config.rootfs.diff_ids).toHaveLength(manifest.layers.length);
    expect(config.history.filter((h) => !h.empty_layer)).toHaveLength(manifest.layers.length);
    // Every layer blob is there and its digest is right.
    for (const l of manifest.layers) {
      const b = await blob(l.digest);
      expect(`sha256:${execFileSync('sha256sum', { input: b }).toString().split(' ')[0]}`).toBe(l.digest);
    }
  });

  test('type=docker writes manifest.json for docker load', async () => {
    const out = join(env.dir, 'docker.tar');
    const r = await env.run(['build', '--progress=quiet', '-t', 'app:1', '-o', `type=docker,dest=${out}`, ctx]);
    expect(r.code).toBe(0);
    const dir = join(env.dir, 'docker');
    await mkdir(dir);
    untar(out, dir);
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
    expect(m[0]?.RepoTags).toEqual(['app:1']);
    const files = new Set(await readdir(join(dir, 'blobs', 'sha256')));
    for (const l of m[0]!.Layers) expect(files.has(l.split('/').pop()!)).toBe(true);
    // The same image is also an OCI layout (index.json): every document validates against the OCI
    // schemas, and every blob's name is its sha256 as an independent implementation (sha256sum)
    // computes it; the config's diff_ids are the sha256 of the decompressed layers.
    const sha256sum = (b: Buffer): string => `sha256:${execFileSync('sha256sum', { input: b }).toString().split(' ')[0]}`;
    const blob = async (d: string): Promise<Buffer> => {
      const b = await readFile(join(dir, 'blobs', 'sha256', d.slice('sha256:'.length)));
      expect(sha256sum(b)).toBe(d);
      return b;
    };
    const indexText = await readFile(join(dir, 'index.json'));
    const index = JSON.parse(indexText.toString()) as { manifests: Array<{ digest: string; mediaType: string }> };
    const manifestBytes = await blob(index.manifests[0]!.digest);
    const manifest = JSON.parse(manifestBytes.toString()) as { config: { digest: string; mediaType: string }; layers: Array<{ digest: string }>; mediaType: string };
    const configBytes = await blob(manifest.config.digest);
    expect(`blobs/sha256/${manifest.config.digest.slice(7)}`).toBe(m[0]!.Config);
    if (partIf(existsSync(schemaDir), `no OCI schemas at ${schemaDir}`, 'OCI schema validation of the docker output')) {
      expect(validateOci('application/vnd.oci.image.index.v1+json', indexText)).toEqual([]);
      // A Docker v2 manifest has the OCI manifest's shape; the OCI schema checks it.
      expect(validateOci('application/vnd.oci.image.manifest.v1+json', manifestBytes)).toEqual([]);
      expect(validateOci('application/vnd.oci.image.config.v1+json', configBytes)).toEqual([]);
    }
    const config = JSON.parse(configBytes.toString()) as { rootfs: { diff_ids: string[] } };
    const diffIds: string[] = [];
    for (const l of manifest.layers) {
      const b = await blob(l.digest);
      diffIds.push(sha256sum(b[0] === 0x1f && b[1] === 0x8b ? execFileSync('gzip', ['-dc'], { input: b, maxBuffer: 1 << 30 }) : b));
    }
    expect(config.rootfs.diff_ids).toEqual(diffIds);
  });

  test('type=local and type=tar give the final filesystem', async () => {
    const local = join(env.dir, 'local');
    const tarFile = join(env.dir, 'fs.tar');
    const r = await env.run(['build', '--progress=quiet', '-o', `type=local,dest=${local}`, '-o', `type=tar,dest=${tarFile}`, ctx]);
    expect(r.code).toBe(0);
    expect(await readFile(join(local, 'app', 'hello.txt'), 'utf8')).toBe('hello\n');
    expect(await readFile(join(local, 'app', 'built.txt'), 'utf8')).toBe('built\n');
    const listing = execFileSync('tar', ['-tvf', tarFile]).toString();
    expect(listing).toMatch(/-rwxr-x--- 0\/0 .* \.\/app\/built\.txt/);
  });

  test('--iidfile and --metadata-file', async () => {
    const iid = join(env.dir, 'iid');
    const meta = join(env.dir, 'meta.json');
    const r = await env.run(['build', '--progress=quiet', '-t', 'app:2', '--iidfile', iid, '--metadata-file', meta, ctx]);
    expect(r.code).toBe(0);
    const digest = await readFile(iid, 'utf8');
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const m = JSON.parse(await readFile(meta, 'utf8')) as Record<string, unknown>;
    // The image ID is the config digest, as in Docker; the manifest digest is containerimage.digest.
    expect(m['containerimage.config.digest']).toBe(digest);
    expect(m['containerimage.digest']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(m['containerimage.digest']).not.toBe(digest);
    expect(m['tsbuild.cache']).toMatchObject({ total: expect.any(Number), cached: expect.any(Number) });
  });

  test('with SOURCE_DATE_EPOCH two builds on fresh data roots give the identical image digest', async () => {
    const digests: string[] = [];
    for (const n of [1, 2]) {
      const other = await makeBuildEnv();
      try {
        const c = await other.context('app', { Dockerfile: dockerfile, 'hello.txt': 'hello\n' });
        const iid = join(other.dir, 'iid');
        const r = await other.run(['build', '--progress=quiet', '--build-arg', 'SOURCE_DATE_EPOCH=1700000000', '--iidfile', iid, '-o', `type=oci,dest=${join(other.dir, 'o.tar')}`, c]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        digests.push(await readFile(iid, 'utf8'));
        // The base image's layer is shipped as it is: its diff_id is the base config's.
        const base = JSON.parse((await other.run(['inspect', 'localhost/busybox:latest'])).stdout) as Array<{ RootFS: { Layers: string[] } }>;
        const out = join(other.dir, 'o');
        await mkdir(out);
        untar(join(other.dir, 'o.tar'), out);
        const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
        const blob = async (d: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(out, 'blobs', 'sha256', d.slice(7)), 'utf8')) as Record<string, unknown>;
        const manifest = (await blob(index.manifests[0]!.digest)) as { config: { digest: string } };
        const config = (await blob(manifest.config.digest)) as { rootfs: { diff_ids: string[] } };
        expect(config.rootfs.diff_ids[0]).toBe(base[0]!.RootFS.Layers[0]);
      } finally {
        await other.cleanup();
      }
      void n;
    }
    expect(digests[0]).toBe(digests[1]);
  }, 120_000);
});
