/**
 * The comparison benchmarks run end to end on tiny inputs (real CLI, real runc; Docker and Buildah
 * too when installed), print their tables, clean up everything under their work dir, stop cleanly
 * on SIGINT, and reject bad flags with one line. No timing is asserted: figures live in
 * docs/benchmarks.md.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountsUnder } from '../helpers/build-env.js';
import { haveBusybox } from '../helpers/busybox.js';
import { repoRoot } from '../helpers/paths.js';
import { describeIf, haveBinary, isRoot } from '../helpers/skip.js';

const cacheBench = join(repoRoot, 'dist', 'bench', 'cache', 'run.js');
const buildBench = join(repoRoot, 'dist', 'bench', 'build', 'run.js');
const seedBench = join(repoRoot, 'dist', 'bench', 'build', 'seed.js');
const built = existsSync(cacheBench) && existsSync(buildBench) && existsSync(seedBench);
const haveDocker = existsSync('/usr/sbin/dockerd') && existsSync('/usr/bin/docker');
const haveBuildah = existsSync('/usr/bin/buildah');
const installed = ['tsbuild', ...(haveDocker ? ['docker'] : []), ...(haveBuildah ? ['buildah'] : [])];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function bench(script: string, args: readonly string[], opts: { readonly interruptOn?: RegExp } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (opts.interruptOn && !sent && opts.interruptOn.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 280_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runc containers (any state root we know of) whose bundle lies under dir. */
async function runcUnder(dir: string): Promise<string[]> {
  const r = await new Promise<string>((resolve) => {
    const c = spawn('runc', ['list', '--format', 'json'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.on('close', () => resolve(out));
    c.on('error', () => resolve(''));
  });
  const list = (JSON.parse(r.trim() || 'null') as { id: string; bundle: string }[] | null) ?? [];
  return list.filter((s) => s.bundle.startsWith(`${dir}/`)).map((s) => s.id);
}

describeIf(isRoot && haveBinary('runc') && haveBusybox && built, 'needs root, runc, busybox-static and npm run build', 'comparison benchmarks', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-bench-test-'));
  });
  afterEach(async () => {
    // The benchmark removes its own work dir under `dir`, mounts first; nothing may be left.
    expect(await mountsUnder(dir)).toEqual([]);
    expect(await runcUnder(dir)).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  test('no-op rebuild bench: every installed tool gets a row, no-op rebuilds run no step, a one-file edit reruns both', async () => {
    const r = await bench(cacheBench, ['--files', '30', '--runs', '1', '--dir', dir]);
    expect(r.stderr).not.toContain('failed');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/context of 30 files \+ Dockerfile/);
    expect(r.stdout).toMatch(/warm stat cache +\d+ ms +\d+ files\/s/);
    for (const tool of installed) {
      // first build, median, range, no-op steps run "0/2" (COPY and RUN cached), ratio, then the
      // rebuild after a one-file edit with "2/2" (both ran again: the no-op did look at the files)
      expect(r.stdout).toMatch(new RegExp(`^${tool} .* 0/2 +\\d+\\.\\d\\dx +\\d+(\\.\\d+)? m?s +2/2$`, 'm'));
    }
  }, 300_000);

  test('export bench: random and binary layers, tsbuild into its store and as an OCI tarball, each with a measured export step', async () => {
    const r = await bench(buildBench, ['--only', 'export', '--export-mb', '4', '--runs', '1', '--tools', 'tsbuild', '--dir', dir]);
    expect(r.stderr).not.toContain('failed');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('== export of a 4.00 MiB layer (random bytes)');
    expect(r.stdout).toContain('== export of a 4.00 MiB layer (copies of /bin/busybox)');
    expect(r.stdout.match(/^tsbuild +\d+(\.\d+)? m?s /gm)).toHaveLength(2);
    expect(r.stdout.match(/^tsbuild -o type=oci +\d+(\.\d+)? m?s /gm)).toHaveLength(2);
  }, 300_000);

  test('seed bench: daemon, embedded and docker rows; cold runs every step, no-op none, one changed file reruns COPY f* and the RUN', async () => {
    const r = await bench(seedBench, ['--files', '20', '--runs', '1', '--dir', dir]);
    expect(r.stderr).not.toContain('failed');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('COPY f* of 20 one-line files');
    for (const tool of ['tsbuild daemon', 'tsbuild embedded', ...(haveDocker ? ['docker'] : [])]) {
      // cold, steps run, export, no-op, steps run, one file changed, steps run, export
      expect(r.stdout).toMatch(new RegExp(`^${tool} +\\d+(\\.\\d+)? m?s +6/6 +\\S+ m?s +\\d+(\\.\\d+)? m?s +0/6 +\\d+(\\.\\d+)? m?s +2/6 +\\S+ m?s$`, 'm'));
    }
    if (haveDocker) {
      expect(r.stdout).toMatch(/^tsbuild daemon +\d+\.\d\dx \(≤ 1\.0x: (met|MISSED)\) +\d+\.\d\dx \(≤ 0\.8x: (met|MISSED)\) +\d+\.\d\dx$/m);
    }
  }, 300_000);

  test('SIGINT during the runs stops the bench with exit 130 and removes its data roots', async () => {
    const r = await bench(cacheBench, ['--files', '30', '--runs', '50', '--tools', 'tsbuild', '--dir', dir], { interruptOn: /no-op rebuild 1\/50/ });
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted; everything it started was cleaned up');
  }, 300_000);
});

describeIf(built, 'needs npm run build', 'benchmark flags', () => {
  test.each([
    [['--runs', '0'], '--runs needs a positive integer, got "0"'],
    [['--tools', 'docker'], '--tools must include tsbuild'],
    [['--tools', 'tsbuild,podman'], '--tools: unknown value "podman"'],
    [['--isolation', 'runsc'], '--isolation takes one of oci, chroot, got "runsc"'],
    [['--frobnicate'], "Unknown option '--frobnicate'"],
  ])('%j is a usage error (exit 2, one message, no stack trace)', async (args, message) => {
    const r = await bench(cacheBench, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });
});
