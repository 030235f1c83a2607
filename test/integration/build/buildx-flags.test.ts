/**
 * buildx's build flags end to end, in-process and through a real tsbuildd, with the real CLI, runc
 * and overlay mounts. `--build-context` (named contexts): a stage replaced by a directory (read
 * with its own .dockerignore, its instructions never run), FROM and `COPY --from` naming an image
 * context, an unchanged rebuild all cached, an edit in the directory rebuilding what reads it, the
 * same image both ways; bad values are one line and exit code 2. `--ulimit`, `--shm-size` and
 * `--add-host`: what a RUN step sees, the same both ways, and part of the step's cache key.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, busyboxTar, mountsUnder } from '../../helpers/build-env.js';
import { haveBusybox } from '../../helpers/busybox.js';
import { runTsbuild, type CliResult } from '../../helpers/cli.js';
import { startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { describeIf, haveBinary, isRoot } from '../../helpers/skip.js';
import { cliPath } from '../../helpers/paths.js';

describeIf(isRoot && haveBinary('runc') && haveBusybox, 'needs root, runc and busybox', 'buildx build flags', () => {
  let dir = '';
  let ctx = '';
  let extra = '';
  let daemon: DaemonProcess | undefined;
  const env = { SOURCE_DATE_EPOCH: '1700000000' };
  const emb = (args: readonly string[]): Promise<CliResult> => runTsbuild(['--root', join(dir, 'emb'), ...args], { env, cwd: dir });
  const remote = (args: readonly string[]): Promise<CliResult> => runTsbuild(['--addr', `unix://${join(dir, 'd.sock')}`, ...args], { env, cwd: dir });
  const flags = ['--build-context', 'build=extra', '--build-context', 'base=docker-image://' + BASE, '--build-context', 'tools=docker-image://' + BASE];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-build-context-'));
    ctx = join(dir, 'ctx');
    extra = join(dir, 'extra');
    await mkdir(ctx);
    await mkdir(join(extra, 'sub'), { recursive: true });
    await writeFile(join(extra, 'a.txt'), 'from the named context\n');
    await writeFile(join(extra, 'sub', 'b.txt'), 'b\n');
    await writeFile(join(extra, 'skip.tmp'), 'ignored\n');
    await writeFile(join(extra, '.dockerignore'), '*.tmp\n');
    await writeFile(join(ctx, 'Dockerfile'), [
      'FROM does-not-exist.invalid/toolchain:1 AS build',
      'RUN exit 1',
      'FROM base',
      'COPY --from=build / /built/',
      'COPY --from=tools /bin/busybox /bb',
      'RUN cd /built && find . | sort > /listing',
      '',
    ].join('\n'));
    for (const root of ['emb', 'daemon']) {
      const r = await runTsbuild(['--root', join(dir, root), 'image', 'import', await busyboxTar(), BASE]);
      if (r.code !== 0) throw new Error(r.stderr);
    }
    daemon = await startDaemon(['--addr', `unix://${join(dir, 'd.sock')}`, '--root', join(dir, 'daemon')]);
  }, 120_000);

  afterAll(async () => {
    if (daemon) expect((await daemon.stop()).code).toBe(0);
    if (dir) {
      expect(await mountsUnder(dir)).toEqual([]);
      await rm(dir, { recursive: true, force: true });
    }
  });

  test.each([['in-process', emb], ['through tsbuildd', remote]] as const)('%s: replaced stage, image contexts, cached rebuild, an edit rebuilds', async (_how, run) => {
    const out = join(dir, `out-${_how}`);
    await writeFile(join(extra, 'a.txt'), 'from the named context\n');
    const first = await run(['build', '--progress', 'plain', ...flags, '-o', `type=local,dest=${out}`, 'ctx']);
    expect([first.code, first.stderr]).toEqual([0, expect.stringContaining('[context build] load from client')]);
    expect(first.stderr).not.toContain('RUN exit 1');
    expect(first.stderr).toContain(`[context base] load metadata for ${BASE}`);
    expect(await readFile(join(out, 'listing'), 'utf8')).toBe('.\n./.dockerignore\n./a.txt\n./sub\n./sub/b.txt\n');
    expect(await readFile(join(out, 'built', 'a.txt'), 'utf8')).toBe('from the named context\n');
    expect((await readdir(out)).includes('bb')).toBe(true);

    // The directory is read again (as the main context is) but that is no build step: a CI check
    // that the rebuild came from the cache passes.
    const again = await run(['build', '--progress', 'plain', '--expect-cached', ...flags, 'ctx']);
    expect([again.code, again.stderr]).toEqual([0, expect.stringContaining('[context build] load from client')]);
    expect(again.stderr).toMatch(/steps: 4 total, 4 cached, 0 executed/);

    await writeFile(join(extra, 'a.txt'), 'edited\n');
    const edited = await run(['build', '--progress', 'plain', ...flags, '-o', `type=local,dest=${out}-2`, 'ctx']);
    expect(edited.code).toBe(0);
    expect(await readFile(join(out + '-2', 'built', 'a.txt'), 'utf8')).toBe('edited\n');
    expect(edited.stderr).toMatch(/steps: 4 total, 1 cached, 3 executed/);
  }, 180_000);

  test('the same image in-process and through tsbuildd', async () => {
    await writeFile(join(extra, 'a.txt'), 'same\n');
    const iid = async (run: typeof emb, name: string): Promise<string> => {
      const f = join(dir, `${name}.iid`);
      const r = await run(['build', '--progress', 'quiet', ...flags, '--iidfile', f, 'ctx']);
      expect([r.code, r.stderr]).toEqual([0, '']);
      return readFile(f, 'utf8');
    };
    expect(await iid(remote, 'remote')).toBe(await iid(emb, 'emb'));
  }, 120_000);

  test.each([
    ['nosuchdir', /^tsbuild: build: invalid --build-context "x=nosuchdir": .*nosuchdir: no such directory$/],
    ['ctx/Dockerfile', /^tsbuild: build: invalid --build-context "x=ctx\/Dockerfile": .*is not a directory$/],
    ['oci-layout:///tmp/layout@sha256:abc', /^tsbuild: build: invalid --build-context "x=oci-layout:.*": only docker-image:\/\/REF, a Git or HTTP\(S\) URL or a directory is supported$/],
  ])('x=%s is refused before anything runs', async (value, message) => {
    const r = await emb(['build', '--build-context', `x=${value}`, 'ctx']);
    expect([r.code, r.stderr.trim().split('\n')]).toEqual([2, [expect.stringMatching(message)]]);
  });

  test.each([['in-process', emb], ['through tsbuildd', remote]] as const)('%s: --ulimit, --shm-size and --add-host reach every RUN and its cache key', async (how, run) => {
    const df = join(dir, 'Dockerfile.limits');
    await writeFile(df, `FROM ${BASE}\nRUN (ulimit -n; ulimit -Hn; ulimit -u; df -k /dev/shm | tail -1 | awk '{print $2}'; grep -w db /etc/hosts) > /seen\n`);
    const args = ['--ulimit', 'nofile=1000:2000', '--ulimit', 'nproc=321', '--shm-size', '96m', '--add-host', 'db:10.0.0.9'];
    const out = join(dir, `limits-${how}`);
    const first = await run(['build', '--progress', 'plain', '-f', df, ...args, '-o', `type=local,dest=${out}`, 'ctx']);
    expect([first.code, first.stderr]).toEqual([0, expect.stringMatching(/steps: \d+ total/)]);
    expect(await readFile(join(out, 'seen'), 'utf8')).toBe(`1000\n2000\n321\n${96 * 1024}\n10.0.0.9\tdb\n`);
    // The /dev/shm mount leaves no stub behind in the image.
    expect(existsSync(join(out, 'dev', 'shm'))).toBe(false);
    const again = await run(['build', '--progress', 'plain', '-f', df, ...args, 'ctx']);
    expect(again.stderr).toMatch(/steps: 2 total, 2 cached, 0 executed/);
    for (const [from, to] of [['nofile=1000:2000', 'nofile=1000:2001'], ['96m', '97m'], ['db:10.0.0.9', 'db:10.0.0.8']] as const) {
      const r = await run(['build', '--progress', 'plain', '-f', df, ...args.map((a) => (a === from ? to : a)), 'ctx']);
      expect([to, r.stderr]).toEqual([to, expect.stringMatching(/steps: 2 total, 1 cached, 1 executed/)]);
    }
  }, 120_000);

  test.each([['in-process', emb], ['through tsbuildd', remote]] as const)('%s: --load and -o type=docker without dest store the image, beside other outputs', async (how, run) => {
    const df = join(dir, 'Dockerfile.load');
    await writeFile(df, `FROM ${BASE}\nRUN echo loaded > /l\n`);
    const tar = join(dir, `load-${how}.tar`);
    expect((await run(['build', '--progress', 'quiet', '-f', df, '--load', '-t', `load-${how.replaceAll(' ', '-')}:1`, '-o', `type=oci,dest=${tar}`, 'ctx'])).code).toBe(0);
    expect(existsSync(tar)).toBe(true);
    expect((await run(['build', '--progress', 'quiet', '-f', df, '-t', `load-${how.replaceAll(' ', '-')}:2`, '-o', 'type=docker', 'ctx'])).code).toBe(0);
    const images = await run(['images', '--format', 'json']);
    // One JSON object a line, as `docker images --format json`.
    const tags = images.stdout.trim().split('\n').map((l) => JSON.parse(l) as { Repository: string; Tag: string }).map((i) => `${i.Repository}:${i.Tag}`).sort();
    const name = `load-${how.replaceAll(' ', '-')}`;
    expect(tags.filter((t) => t.startsWith(`${name}:`))).toEqual([`${name}:1`, `${name}:2`]);
  }, 120_000);

  /** An OCI archive's index.json, and each blob it names that is JSON, by digest. */
  async function readOciTar(tar: string): Promise<{ index: { manifests: { digest: string; annotations?: Record<string, string> }[] }; blob: (d: string) => Promise<Record<string, unknown>> }> {
    const x = `${tar}.d`;
    await mkdir(x, { recursive: true });
    execFileSync('tar', ['-xf', tar, '-C', x]);
    return {
      index: JSON.parse(await readFile(join(x, 'index.json'), 'utf8')),
      blob: async (d) => JSON.parse(await readFile(join(x, 'blobs', 'sha256', d.slice('sha256:'.length)), 'utf8')) as Record<string, unknown>,
    };
  }

  test.each([['in-process', emb], ['through tsbuildd', remote]] as const)('%s: --annotation on the manifest and its descriptor; the same digest both ways', async (how, run) => {
    const tar = join(dir, `annotated-${how.replaceAll(' ', '-')}.tar`);
    const r = await run(['build', '--progress', 'plain', ...flags, '--annotation', 'org.opencontainers.image.description=from tsbuild', '--annotation', 'manifest-descriptor:d=1', '--annotation', 'index:i=1', '-o', `type=oci,dest=${tar}`, 'ctx']);
    expect(r.code).toBe(0);
    // One platform is one image: an index annotation has nothing to go on, and the build says so.
    expect(r.stderr).toContain('annotation-index.* (--annotation index:…) has no image index to go on');
    const { index, blob } = await readOciTar(tar);
    expect(index.manifests.map((m) => m.annotations)).toEqual([{ d: '1' }]);
    const manifest = await blob((index.manifests[0] as { digest: string }).digest);
    expect(manifest['annotations']).toEqual({ 'org.opencontainers.image.description': 'from tsbuild' });
    annotatedDigests.push((index.manifests[0] as { digest: string }).digest);
    if (annotatedDigests.length === 2) expect(annotatedDigests[0]).toBe(annotatedDigests[1]);
  }, 120_000);
  const annotatedDigests: string[] = [];

  test('--annotation on a multi-platform index, its descriptor, and one platform\'s manifest', async () => {
    await writeFile(join(ctx, 'Dockerfile.scratch'), 'FROM scratch\nCOPY Dockerfile /d\n');
    const tar = join(dir, 'multi.tar');
    const r = await emb(['build', '--progress', 'quiet', '-f', join(ctx, 'Dockerfile.scratch'), '--platform', 'linux/amd64,linux/arm64', '-t', 'multi:1',
      '--annotation', 'index:title=both', '--annotation', 'index-descriptor:idx=1', '--annotation', 'manifest[linux/arm64]:arm=yes', '--annotation', 'manifest-descriptor[linux/amd64]:amd=d',
      '-o', `type=oci,dest=${tar}`, 'ctx']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const { index, blob } = await readOciTar(tar);
    expect(index.manifests[0]?.annotations).toEqual({ idx: '1', 'io.containerd.image.name': 'docker.io/library/multi:1', 'org.opencontainers.image.ref.name': '1' });
    const idx = await blob((index.manifests[0] as { digest: string }).digest) as { annotations?: unknown; manifests: { digest: string; platform: { architecture: string }; annotations?: unknown }[] };
    expect(idx.annotations).toEqual({ title: 'both' });
    const per = await Promise.all(idx.manifests.map(async (m) => [m.platform.architecture, m.annotations, (await blob(m.digest))['annotations']]));
    expect(per).toEqual([['amd64', { amd: 'd' }, undefined], ['arm64', undefined, { arm: 'yes' }]]);
  }, 120_000);

  test('Ctrl-C while a --build-context directory travels to tsbuildd: exit 130 as a cancel, the daemon keeps nothing of it', async () => {
    const big = join(dir, 'big');
    await mkdir(big);
    execFileSync('truncate', ['-s', '2G', join(big, 'zeros')]);
    await writeFile(join(ctx, 'Dockerfile.big'), `FROM ${BASE}\nCOPY --from=big /zeros /z\n`);
    const child = spawn(process.execPath, [cliPath, '--addr', `unix://${join(dir, 'd.sock')}`, 'build', '--progress=plain', '-f', join(ctx, 'Dockerfile.big'), '--build-context', `big=${big}`, ctx], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // The context is in (its transfer step is done): the daemon asks for the directory next.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the context transfer never finished:\n${stderr}`)), 60_000);
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (/#1 DONE/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/^error: cancelled: .*SIGINT$/m);
    expect(stderr).not.toContain('aborted');
    const solve = join(dir, 'daemon', 'solve');
    for (let i = 0; i < 50 && (await readdir(solve)).some((n) => n.startsWith('build-')); i++) await new Promise((r) => setTimeout(r, 100));
    expect((await readdir(solve)).filter((n) => n.startsWith('build-'))).toEqual([]);
  }, 120_000);

  test('an invalid name is one error line', async () => {
    const r = await emb(['build', '--progress', 'quiet', '--build-context', 'Bad Name=extra', 'ctx']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: invalid --build-context Bad Name: the name is not a stage or image name/)]);
    const p = await emb(['build', '--progress', 'quiet', '--build-context', 'base::a/b/c/d=extra', 'ctx']);
    expect([p.code, p.stderr.trim().split('\n')]).toEqual([1, ['error: invalid --build-context base::a/b/c/d: "a/b/c/d" is not a platform: invalid platform "a/b/c/d": expected os/arch[/variant]']]);
  });
});
