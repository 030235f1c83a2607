/**
 * What a benchmark measures must be the tool as built: the private CLI copy it runs (snapshotCli)
 * carries the native module, so mounts and unmounts do not fork the daemon for mount(8)/umount(8)
 * as they would in a tree without it; and `bench/build/run.js --old` prints the old build as its
 * own row with its ratios; the examples' runs alternate which tool builds first.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshotCli } from '../../bench/lib/cli-snapshot.js';
import { printExample } from '../../bench/build/print.js';
import { runOrder } from '../../bench/build/examples.js';
import { waitForIdle } from '../../bench/lib/idle.js';
import type { ExampleResult } from '../../bench/build/examples.js';
import { repoRoot } from '../helpers/paths.js';
import { describeIf } from '../helpers/skip.js';

const built = existsSync(join(repoRoot, 'dist', 'bin', 'tsbuild.mjs')) && existsSync(join(repoRoot, 'native', 'build', 'Release', 'tsbuild_sys.node'));

describeIf(built, 'needs npm run build', 'benchmark CLI snapshot', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-snap-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the copied CLI loads the native module (tsbuild info lists native-sys)', async () => {
    const entry = await snapshotCli(join(dir, 'cli'), { signal: AbortSignal.timeout(60_000) });
    const r = spawnSync(process.execPath, [entry, '--root', join(dir, 'root'), 'info'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', TSBUILD_NATIVE: '' } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Features:.*\bnative-sys\b/m);
  });

  test('a dist/ without its native module beside it is refused, not measured without it', async () => {
    await cp(join(repoRoot, 'dist', 'bin'), join(dir, 'other', 'dist', 'bin'), { recursive: true });
    await expect(snapshotCli(join(dir, 'cli'), { signal: AbortSignal.timeout(60_000), dist: join(dir, 'other', 'dist') })).rejects.toThrow(/tsbuild_sys\.node is missing/);
  });
});

test('the examples table gives an old build its own row and its ratio to the new one and to each other tool', () => {
  const o = (wallMs: number) => ({ wallMs, exportMs: 1, steps: 4, cachedSteps: 0 });
  const row = (tool: string, ms: number): ExampleResult => ({
    tool, example: 'single', cold: [o(ms)], noop: [o(ms / 10)], change: [{ outcome: o(ms / 2), changed: [] }], image: [],
  });
  const lines: string[] = [];
  printExample([row('tsbuild', 1000), row('tsbuild (old)', 2000), row('docker', 1000)], (s) => lines.push(s));
  const out = lines.join('\n');
  expect(out).toMatch(/^tsbuild \(old\) +2\.00 s /m);
  expect(out).toMatch(/^tsbuild \/ tsbuild \(old\) +0\.50x +0\.50x +0\.50x$/m);
  expect(out).toMatch(/^tsbuild \/ docker +1\.00x +1\.00x +1\.00x$/m);
  expect(out).toMatch(/^tsbuild \(old\) \/ docker +2\.00x +2\.00x +2\.00x$/m);
});

test("the examples' runs alternate the tools' order, so no tool always builds right after the same other one", () => {
  const tools = ['tsbuild', 'docker', 'tsbuild (old)'];
  const orders = [0, 1, 2, 3].map((i) => runOrder(tools, i).join(' '));
  expect(orders).toEqual(['tsbuild docker tsbuild (old)', 'tsbuild (old) docker tsbuild', 'tsbuild docker tsbuild (old)', 'tsbuild (old) docker tsbuild']);
  // Over two runs, tsbuild follows docker once and docker follows tsbuild once (pairs within a run).
  const follows = [0, 1].flatMap((i) => runOrder(['tsbuild', 'docker'], i).slice(1).map((t, k) => `${runOrder(['tsbuild', 'docker'], i)[k]} > ${t}`));
  expect(follows.sort()).toEqual(['docker > tsbuild', 'tsbuild > docker']);
});

test('before a timed build the bench waits while another process keeps a CPU busy, and gives up after its limit', async () => {
  const spin = (ms: number): ReturnType<typeof spawn> => spawn(process.execPath, ['-e', `const t = Date.now(); while (Date.now() - t < ${ms});`], { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } });
  const signal = AbortSignal.timeout(30_000);
  // One busy core of this machine's (at most 2 here; 25 % stays a busy reading on up to 4).
  const a = spin(800);
  await new Promise((r) => setTimeout(r, 150));
  const waited = await waitForIdle({ signal, busyPercent: 100 / Math.max(2, Math.min(4, cpus().length)) / 2, maxWaitMs: 5_000 });
  expect(waited.waitedMs).toBeGreaterThanOrEqual(450);
  const b = spin(2_000);
  await new Promise((r) => setTimeout(r, 150));
  const gaveUp = await waitForIdle({ signal, busyPercent: 100 / Math.max(2, Math.min(4, cpus().length)) / 2, maxWaitMs: 400 });
  expect(gaveUp).toMatchObject({ idle: false });
  expect(gaveUp.waitedMs).toBeGreaterThanOrEqual(400);
  a.kill();
  b.kill();
}, 30_000);
