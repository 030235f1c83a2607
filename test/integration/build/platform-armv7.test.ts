/**
 * `--platform linux/arm/v7` where qemu's arm emulator is registered (issue 15): a RUN on Debian's
 * armhf busybox runs emulated (`uname -m` says armv7l), the config says arm/v7, `tsbuild info`
 * lists the platform, and a two-platform build with arm64 makes an index with the variant.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountsUnder } from '../../helpers/build-env.js';
import { arm64Why, armhfWhy, haveArm64Busybox, haveArm64Emulation, haveArmEmulation, haveArmhfBusybox, makeArm64BusyboxTar, makeArmhfBusyboxTar } from '../../helpers/busybox-arm64.js';
import { runTsbuild, type CliResult } from '../../helpers/cli.js';
import { describeIf, haveBinary, isRoot } from '../../helpers/skip.js';

describeIf(isRoot && haveBinary('runc') && haveArmhfBusybox && haveArmEmulation && haveArm64Busybox && haveArm64Emulation, `needs root, runc; ${armhfWhy}; ${arm64Why}`, 'builds for linux/arm/v7 through QEMU', () => {
  let dir = '';
  let root = '';
  const ok = async (args: readonly string[]): Promise<CliResult> => {
    const r = await runTsbuild(['--root', root, ...args], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    if (r.code !== 0) throw new Error(`tsbuild ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
    return r;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-armv7-'));
    root = join(dir, 'root');
    await makeArmhfBusyboxTar(join(dir, 'armhf.tar'));
    await makeArm64BusyboxTar(join(dir, 'arm64.tar'));
    await ok(['image', 'import', '--platform', 'linux/arm/v7', join(dir, 'armhf.tar'), 'base-arm']);
    await ok(['image', 'import', '--platform', 'linux/arm64', join(dir, 'arm64.tar'), 'base-arm64']);
  }, 180_000);

  afterAll(async () => {
    if (dir) {
      expect(await mountsUnder(dir)).toEqual([]);
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('info lists linux/arm/v7; a RUN says armv7l and the config says arm, variant v7', async () => {
    const info = JSON.parse((await ok(['info', '--format', 'json'])).stdout) as { platforms: string[] };
    expect(info.platforms).toContain('linux/arm/v7');
    const ctx = join(dir, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM base-arm\nRUN uname -m > /m\n');
    const out = join(dir, 'out');
    await ok(['build', '--platform', 'linux/arm/v7', '--progress', 'quiet', '-t', 'v7:1', '-o', 'type=image', '-o', `type=local,dest=${out}`, ctx]);
    expect(await readFile(join(out, 'm'), 'utf8')).toBe('armv7l\n');
    const c = (JSON.parse((await ok(['inspect', 'v7:1'])).stdout) as Record<string, unknown>[])[0] as Record<string, unknown>;
    expect([c['Os'], c['Architecture'], c['Variant']]).toEqual(['linux', 'arm', 'v7']);
  }, 300_000);

  test('linux/arm64,linux/arm/v7 in one build: folders per platform, uname -m per emulator', async () => {
    const ctx = join(dir, 'ctx2');
    await mkdir(ctx);
    // The base by TARGETARCH (arm64 / arm), each imported with its platform.
    await writeFile(join(ctx, 'Dockerfile'), 'ARG TARGETARCH\nFROM base-${TARGETARCH}\nARG TARGETVARIANT\nRUN echo "$(uname -m) $TARGETVARIANT" > /m\n');
    const out = join(dir, 'out2');
    await ok(['build', '--platform', 'linux/arm64,linux/arm/v7', '--progress', 'quiet', '-o', `type=local,dest=${out}`, ctx]);
    expect(await readFile(join(out, 'linux_arm64', 'm'), 'utf8')).toBe('aarch64 \n');
    expect(await readFile(join(out, 'linux_arm_v7', 'm'), 'utf8')).toBe('armv7l v7\n');
  }, 300_000);
});
