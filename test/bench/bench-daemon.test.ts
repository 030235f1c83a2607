/**
 * bench/daemon runs end to end in a tiny quick mode (real tsbuildd, real CLI, real runc; Docker
 * too when installed) so it cannot rot: it prints the start-up table, the comparison table with
 * no-op rebuilds running no step and one-file edits rerunning both, and the load table with the
 * shared step executed once in round 1 and every build cached in round 2; it leaves nothing
 * behind. No timing is asserted: figures live in docs/benchmarks.md.
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

const daemonBench = join(repoRoot, 'dist', 'bench', 'daemon', 'run.js');
const built = existsSync(daemonBench) && existsSync(join(repoRoot, 'dist', 'bin', 'tsbuildd.mjs'));
const haveDocker = existsSync('/usr/sbin/dockerd') && existsSync('/usr/bin/docker');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function bench(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [daemonBench, ...args], { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 280_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describeIf(isRoot && haveBinary('runc') && haveBusybox && built, 'needs root, runc, busybox-static and npm run build', 'daemon benchmark', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsb-bd-'));
  });
  afterEach(async () => {
    expect(await mountsUnder(dir)).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  test('quick mode: start-up, daemon vs docker rebuilds, and the load test all print and pass their checks', async () => {
    const r = await bench([
      '--runs', '1', '--startup-runs', '2', '--files', '30', '--change-files', '30',
      '--clients', '4', '--dockerfiles', '2', '--rounds', '2', '--shared-sleep', '1', '--dir', dir,
    ]);
    expect(r.stderr).not.toContain('bench/daemon failed');
    expect(r.code).toBe(0);
    // The floor without NODE_EXTRA_CA_CERTS, and node's own with it when the environment sets it
    // (the tsbuild binary defers that file: src/util/extra-ca.ts).
    const extraCa = (process.env['NODE_EXTRA_CA_CERTS'] ?? '') !== '';
    expect(r.stdout).toMatch(extraCa ? /^node -e 0, no NODE_EXTRA_CA_CERTS +\d+(\.\d+)? m?s /m : /^node -e 0 +\d+(\.\d+)? m?s /m);
    if (extraCa) expect(r.stdout).toMatch(/^node -e 0 \(loads NODE_EXTRA_CA_CERTS\) +\d+(\.\d+)? m?s /m);
    const overs = extraCa ? '[+-]\\d+ ms +[+-]\\d+ ms' : '[+-]\\d+ ms';
    expect(r.stdout).toMatch(new RegExp(`^tsbuild --version +\\d+(\\.\\d+)? m?s +${overs} +(yes|NO) `, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^tsbuild build \\(no-op, daemon\\) +\\d+(\\.\\d+)? m?s +${overs} +(yes|NO) `, 'm'));
    for (const tool of ['tsbuild', ...(haveDocker ? ['docker'] : [])]) {
      expect(r.stdout).toMatch(new RegExp(`^${tool} .* 0/2 +\\d+(\\.\\d+)? m?s +2/2$`, 'm'));
    }
    if (haveDocker) {
      expect(r.stdout).toMatch(/^tsbuild \/ docker, no-op: \d+\.\d\dx \(target ≤ 0\.8x: (met|MISSED)\)$/m);
      expect(r.stdout).toMatch(/^tsbuild \/ docker, 1-file edit: \d+\.\d\dx/m);
    }
    // round, ok, wall, builds/s, p50, p95, shared step ran, variant steps ran, all CACHED, mounts left
    expect(r.stdout).toMatch(/^1 +4\/4 .* +1 +2 +\d\/4 +0 /m);
    expect(r.stdout).toMatch(/^2 +4\/4 .* +0 +0 +4\/4 +0 /m);
    expect(r.stdout).toContain('load test: all checks passed');
  }, 300_000);
});
