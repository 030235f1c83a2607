/**
 * Differential test for one foreign platform (issue 15): Docker 20.10's BuildKit and tsbuild build
 * the same Dockerfile with `--platform linux/arm64` on an arm64 busybox base that the test pushes
 * to a local registry as a real arm64 image (config architecture arm64), so Docker resolves it by
 * platform. Filesystems and configs must be equal (compat harness rules), `architecture: arm64` on
 * both, and `uname -m` run by the RUN step says aarch64 on both.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountsUnder } from '../helpers/build-env.js';
import { arm64Why, haveArm64Busybox, haveArm64Emulation, makeArm64BusyboxTar } from '../helpers/busybox-arm64.js';
import { runTsbuild } from '../helpers/cli.js';
import { dockerdMissingWhy, haveDockerd, startDockerd, type Dockerd } from '../helpers/dockerd.js';
import { flattenImageArchive } from '../helpers/fs-flatten.js';
import { haveRegistry, registryMissingWhy, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { describeIf } from '../helpers/skip.js';
import { comparableImage, compareFs, compareImages, formatConfigDifferences, formatFsDifferences } from './harness/compare.js';

const ok = haveDockerd && haveRegistry && haveArm64Busybox && haveArm64Emulation;
const why = [!haveDockerd && dockerdMissingWhy, !haveRegistry && registryMissingWhy, !(haveArm64Busybox && haveArm64Emulation) && arm64Why].filter(Boolean).join('; ');

describeIf(ok, why, 'Docker BuildKit and tsbuild agree on a linux/arm64 build', () => {
  let dir = '';
  let dockerd: Dockerd | undefined;
  let registry: TestRegistry | undefined;
  let base = '';

  const ts = async (args: readonly string[]): Promise<string> => {
    const r = await runTsbuild(['--root', join(dir, 'root'), ...args], { env: { SOURCE_DATE_EPOCH: '1700000000' }, timeoutMs: 600_000 });
    if (r.code !== 0) throw new Error(`tsbuild ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-compat-arm64-'));
    const tar = join(dir, 'busybox-arm64.tar');
    await makeArm64BusyboxTar(tar);
    registry = await startRegistry();
    base = `${registry.host}/compat/busybox-arm64:1`;
    // A real arm64 image in the registry: the config says arm64, so Docker accepts it for linux/arm64.
    await ts(['image', 'import', '--platform', 'linux/arm64', tar, base]);
    await ts(['push', base]);
    dockerd = await startDockerd();
  }, 300_000);

  afterAll(async () => {
    await dockerd?.stop();
    await registry?.stop();
    if (dir) {
      expect(await mountsUnder(dir)).toEqual([]);
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('same filesystem and config; architecture arm64; uname -m = aarch64', async () => {
    const d = dockerd as Dockerd;
    const ctx = join(dir, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), [
      `FROM ${base}`,
      'ARG TARGETARCH',
      'RUN uname -m > /arch && echo "$TARGETARCH" > /targetarch',
      'ENV MODE=arm',
      'WORKDIR /app',
      'RUN echo hi > hello && ls /bin | wc -l > count',
      '',
    ].join('\n'));
    const dockerOut = join(dir, 'docker.tar');
    await d.dockerOk(['build', '--platform', 'linux/arm64', '--network=host', '--progress=plain', '-t', 'compat-arm64:1', ctx]);
    await d.dockerOk(['save', '-o', dockerOut, 'compat-arm64:1']);
    const tsOut = join(dir, 'tsbuild.tar');
    await ts(['build', '--platform', 'linux/arm64', '--network=host', '--progress=plain', '-t', 'compat-arm64:1', '-o', `type=docker,dest=${tsOut}`, ctx]);

    const { archive: da, ...dflat } = await flattenImageArchive(dockerOut);
    const { archive: ta, ...tflat } = await flattenImageArchive(tsOut);
    const di = comparableImage(da, dflat);
    const ti = comparableImage(ta, tflat);
    const labels = ['docker', 'tsbuild'] as const;
    const diff = [formatFsDifferences(compareFs(dflat.fs, tflat.fs), labels), formatConfigDifferences(compareImages(di, ti), labels)].filter(Boolean).join('\n');
    expect(diff).toBe('');
    expect(da.config.architecture).toBe('arm64');
    expect(ta.config.architecture).toBe('arm64');
    const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
    for (const [side, flat] of [['docker', dflat], ['tsbuild', tflat]] as const) {
      expect([side, flat.fs.get('/arch')?.sha256]).toEqual([side, sha('aarch64\n')]);
      expect([side, flat.fs.get('/targetarch')?.sha256]).toEqual([side, sha('arm64\n')]);
    }
  }, 600_000);
});
