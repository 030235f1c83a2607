/**
 * One foreign platform through QEMU (issue 15): `--platform linux/arm64` on this amd64 machine runs
 * RUN under the registered binfmt_misc emulator, embedded and through tsbuildd — `uname -m` in the
 * image says aarch64 and the config says arm64; `image import --platform` records the platform;
 * without an emulator (binfmt_misc pointed at a fake directory, never the real one unregistered:
 * other tests run at the same time) the build stops before any step with what to install; an
 * amd64 and an arm64 build of one Dockerfile share no RUN result; the automatic platform ARGs have
 * BuildKit's scoping and a `FROM --platform=$BUILDPLATFORM` stage runs natively.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, busyboxTar, mountsUnder, rawSummary } from '../../helpers/build-env.js';
import { haveBusybox } from '../../helpers/busybox.js';
import { arm64Why, haveArm64Busybox, haveArm64Emulation, makeArm64BusyboxTar, ARM64_BINFMT } from '../../helpers/busybox-arm64.js';
import { runTsbuild, type CliResult } from '../../helpers/cli.js';
import { startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { describeIf, haveBinary, isRoot } from '../../helpers/skip.js';

const ARM = 'localhost/busybox-arm64:1';

describeIf(isRoot && haveBinary('runc') && haveBusybox && haveArm64Busybox && haveArm64Emulation, `needs root, runc, busybox; ${arm64Why}`, 'builds for linux/arm64 through QEMU', () => {
  let dir = '';
  let root = '';
  let daemon: DaemonProcess | undefined;
  const ts = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => runTsbuild(['--root', root, ...args], { env: { SOURCE_DATE_EPOCH: '1700000000', ...env } });
  const ok = async (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => {
    const r = await ts(args, env);
    if (r.code !== 0) throw new Error(`tsbuild ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
    return r;
  };
  async function context(name: string, dockerfile: string): Promise<string> {
    const c = join(dir, name);
    await mkdir(c, { recursive: true });
    await writeFile(join(c, 'Dockerfile'), dockerfile);
    return c;
  }
  async function config(ref: string, via: readonly string[] = []): Promise<Record<string, unknown>> {
    const r = await runTsbuild([...(via.length ? via : ['--root', root]), 'inspect', ref]);
    if (r.code !== 0) throw new Error(`inspect ${ref}: ${r.stderr}`);
    return (JSON.parse(r.stdout) as Record<string, unknown>[])[0] as Record<string, unknown>;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-arm64-'));
    root = join(dir, 'root');
    const armTar = join(dir, 'busybox-arm64.tar');
    await makeArm64BusyboxTar(armTar);
    await ok(['image', 'import', await busyboxTar(), BASE]);
    await ok(['image', 'import', '--platform', 'linux/arm64', armTar, ARM]);
  }, 180_000);

  afterAll(async () => {
    if (daemon) expect((await daemon.stop()).code).toBe(0);
    if (dir) {
      expect(await mountsUnder(dir)).toEqual([]);
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('image import --platform records the platform in the config', async () => {
    const c = await config(ARM);
    expect([c['Os'], c['Architecture']]).toEqual(['linux', 'arm64']);
    expect((await config(BASE))['Architecture']).toBe('amd64');
  });

  test('a RUN under the aarch64 emulator writes uname -m = aarch64; the config says arm64', async () => {
    const ctx = await context('uname', `FROM ${ARM}\nRUN uname -m > /arch\n`);
    const out = join(dir, 'uname-out');
    await ok(['build', '--platform', 'linux/arm64', '--progress', 'quiet', '-t', 'arm-app:1', '-o', `type=local,dest=${out}`, '-o', 'type=image', ctx]);
    expect(await readFile(join(out, 'arch'), 'utf8')).toBe('aarch64\n');
    const c = await config('arm-app:1');
    expect([c['Os'], c['Architecture'], c['Variant'] ?? '']).toEqual(['linux', 'arm64', '']);
  });

  test('tsbuild info lists the emulated platforms; the probe is not repeated while binfmt_misc is unchanged', async () => {
    const r = await ok(['info', '--format', 'json']);
    const info = JSON.parse(r.stdout) as { platform: string; platforms: string[] };
    expect(info.platforms[0]).toBe('linux/amd64');
    expect(info.platforms).toContain('linux/arm64');
    const before = JSON.parse(await readFile(join(root, 'emulators.json'), 'utf8')) as { probedAt: number };
    await ok(['info']);
    const ctx = await context('noop', `FROM ${ARM}\nRUN uname -m > /arch\n`);
    const b = await ok(['build', '--platform', 'linux/arm64', '--progress', 'rawjson', ctx]);
    expect(rawSummary(b.stderr).executed).toBe(0);
    const after = JSON.parse(await readFile(join(root, 'emulators.json'), 'utf8')) as { probedAt: number };
    expect(after.probedAt).toBe(before.probedAt);
  });

  test('without an emulator the build stops before any step, naming qemu-user-static', async () => {
    const fake = join(dir, 'binfmt-none');
    await mkdir(fake);
    await writeFile(join(fake, 'status'), 'enabled\n');
    const ctx = await context('missing', `FROM ${ARM}\nRUN uname -m > /arch\n`);
    const r = await ts(['build', '--no-cache', '--platform', 'linux/arm64', '--progress', 'plain', ctx], { TSBUILD_BINFMT_MISC: fake });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cannot run RUN steps for linux\/arm64 on this machine: no binfmt_misc handler for aarch64 binaries is registered in .*binfmt-none: install qemu-user-static/);
    expect(r.stderr).not.toContain('RUN uname');
    expect(r.stderr).not.toContain('extracting');
    // The same handler registered without the F flag: invisible inside runc containers.
    const noF = join(dir, 'binfmt-nof');
    await mkdir(noF);
    await writeFile(join(noF, 'status'), 'enabled\n');
    await writeFile(join(noF, 'qemu-aarch64'), (await readFile(ARM64_BINFMT, 'utf8')).replace(/^flags: .*$/m, 'flags: PO'));
    const r2 = await ts(['build', '--no-cache', '--platform', 'linux/arm64', '--progress', 'plain', ctx], { TSBUILD_BINFMT_MISC: noF });
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('qemu-aarch64');
    expect(r2.stderr).toContain('without the F (fix-binary) flag');
    // A build for the host's own platform does not need binfmt_misc at all.
    const host = await context('host', `FROM ${BASE}\nRUN uname -m > /arch\n`);
    await ok(['build', '--progress', 'quiet', host], { TSBUILD_BINFMT_MISC: fake });
  });

  test('an amd64 and an arm64 build of one Dockerfile share no RUN result', async () => {
    // The same single-platform base for both: only the platform tells the two RUN steps apart.
    const ctx = await context('keys', `FROM ${BASE}\nRUN echo one > /one\n`);
    await ok(['build', '--platform', 'linux/amd64', '--progress', 'quiet', ctx]);
    const again = await ok(['build', '--platform', 'linux/amd64', '--progress', 'rawjson', ctx]);
    expect(rawSummary(again.stderr).executed).toBe(0);
    const arm = await ok(['build', '--platform', 'linux/arm64', '--progress', 'rawjson', ctx]);
    expect(rawSummary(arm.stderr).executed).toBe(1);
    expect(arm.stderr).toContain('InvalidBaseImagePlatform');
  });

  test('platform ARGs: global scope for FROM, a stage sees them after ARG; FROM --platform=$BUILDPLATFORM runs natively', async () => {
    const ctx = await context('args', [
      `FROM --platform=$BUILDPLATFORM ${BASE} AS build`,
      'ARG TARGETARCH',
      'ARG BUILDARCH',
      'RUN uname -m > /m && echo "$BUILDARCH-$TARGETARCH-[$TARGETPLATFORM]" > /t',
      `FROM ${ARM}`,
      'RUN echo "[$TARGETPLATFORM]" > /before',
      'ARG TARGETPLATFORM',
      'ARG TARGETVARIANT',
      'RUN echo "[$TARGETPLATFORM][$TARGETVARIANT]" > /after && uname -m > /arch',
      'COPY --from=build /m /t /',
      '',
    ].join('\n'));
    const out = join(dir, 'args-out');
    await ok(['build', '--platform', 'linux/arm64', '--progress', 'quiet', '-o', `type=local,dest=${out}`, ctx]);
    const read = (f: string): Promise<string> => readFile(join(out, f), 'utf8');
    expect(await read('m')).toBe('x86_64\n');
    expect(await read('t')).toBe('amd64-arm64-[]\n');
    expect(await read('before')).toBe('[]\n');
    expect(await read('after')).toBe('[linux/arm64][]\n');
    expect(await read('arch')).toBe('aarch64\n');
  });

  test('through tsbuildd: the arm64 build and info', async () => {
    const addr = `unix://${join(dir, 'd.sock')}`;
    daemon = await startDaemon(['--addr', addr, '--root', root]);
    const via = ['--addr', addr];
    const info = JSON.parse((await runTsbuild([...via, 'info', '--format', 'json'])).stdout) as { platforms: string[] };
    expect(info.platforms).toContain('linux/arm64');
    const ctx = await context('daemon', `FROM ${ARM}\nRUN uname -m > /arch-d\n`);
    const r = await runTsbuild([...via, 'build', '--platform', 'linux/arm64', '--progress', 'quiet', '-t', 'arm-daemon:1', ctx]);
    expect(r.code).toBe(0);
    const c = await config('arm-daemon:1', via);
    expect(c['Architecture']).toBe('arm64');
    const out = join(dir, 'daemon-out');
    const r2 = await runTsbuild([...via, 'build', '--platform', 'linux/arm64', '--progress', 'quiet', '-o', `type=local,dest=${out}`, ctx]);
    expect(r2.code).toBe(0);
    expect(await readFile(join(out, 'arch-d'), 'utf8')).toBe('aarch64\n');
  });
});
