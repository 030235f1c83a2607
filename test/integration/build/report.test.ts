/**
 * Issue 13, `tsbuild report`, through the real CLI: a split Dockerfile that writes 100000 bytes in
 * one layer and deletes them in the next reports those bytes as wasted (they ship in the lower layer);
 * a cold build's time-weighted hit ratio is 0, a fully cached rebuild's is ~1 (every step's cold time
 * is its last executed run), and the miss reasons are the history's. BUILD selects an older build.
 */
import { expect, test } from '@jest/globals';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BASE, describeBuilds, useBuildEnv } from '../../helpers/build-env.js';
import { runTsbuild, type CliResult } from '../../helpers/cli.js';
import { startDaemon } from '../../helpers/daemon.js';

const DOCKERFILE = [
  `FROM ${BASE}`,
  'RUN head -c 100000 /dev/urandom > /big',
  'RUN rm /big',
  '',
].join('\n');

interface ReportJson {
  readonly buildId: string;
  readonly stepsTotal: number;
  readonly stepsCached: number;
  readonly stepsExecuted: number;
  readonly hitRatio: { readonly timeSavedMs: number; readonly coldMs: number; readonly ratio: number | null; readonly coldUnknown: number };
  readonly steps: readonly { readonly instruction: string; readonly outcome: string; readonly coldMs: number | null; readonly savedMs: number; readonly why: string | null }[];
  readonly layers: readonly { readonly index: number; readonly size: number; readonly files: number; readonly wastedBytes: number }[] | null;
  readonly imageSize: number | null;
  readonly wastedBytes: number | null;
  readonly missReasons: readonly string[];
}

describeBuilds('tsbuild report', () => {
  const env = useBuildEnv();
  let ctx = '';

  test('wasted bytes of a split layer, the hit ratio of a cold build and of a cached rebuild', async () => {
    ctx = await env.context('split', { 'keep.txt': 'k\n' });
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
    const report = async (extra: readonly string[]): Promise<ReportJson> => {
      const r = await env.run(['report', '--format', 'json', ...extra]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as ReportJson;
    };

    expect((await env.run(['build', '-t', 'split', ctx])).code).toBe(0);
    const cold = await report(['--last']);
    expect(cold.steps.map((s) => [s.instruction, s.outcome, s.why])).toEqual([
      [`FROM ${BASE}`, 'executed', 'first build of this Dockerfile'],
      ['RUN head -c 100000 /dev/urandom > /big', 'executed', 'first build of this Dockerfile'],
      ['RUN rm /big', 'executed', 'first build of this Dockerfile'],
    ]);
    expect(cold.missReasons).toEqual(cold.steps.map((s) => `${s.instruction}: first build of this Dockerfile`));
    expect(cold.hitRatio.timeSavedMs).toBe(0);
    expect(cold.hitRatio.ratio).toBe(0);
    const layers = cold.layers ?? [];
    // The base image's layer(s), then /big (100000 bytes, all hidden by the next layer), then the whiteout.
    const big = layers.at(-2);
    const rm = layers.at(-1);
    expect(big).toMatchObject({ size: 100000, wastedBytes: 100000 });
    expect(rm).toMatchObject({ size: 0, files: 0, wastedBytes: 0 });
    expect(cold.wastedBytes).toBe(100000);
    expect(cold.imageSize).toBe(layers.reduce((n, l) => n + l.size, 0));
    expect(layers.slice(0, -2).every((l) => l.size > 0 && l.wastedBytes === 0)).toBe(true);

    expect((await env.run(['build', '-t', 'split', ctx])).code).toBe(0);
    const warm = await report([]);
    expect(warm.steps.map((s) => s.outcome)).toEqual(['cached', 'cached', 'cached']);
    expect(warm.missReasons).toEqual([]);
    expect(warm.hitRatio.coldUnknown).toBe(0);
    // Every step's cold time is what it took in the first build.
    expect(warm.steps.map((s) => s.coldMs)).toEqual(cold.steps.map((s) => s.coldMs));
    expect(warm.hitRatio.coldMs).toBe(cold.hitRatio.coldMs);
    expect(warm.hitRatio.ratio).toBeGreaterThan(0.9);
    expect(warm.wastedBytes).toBe(100000);

    // BUILD picks the older build; the table says the same in words.
    expect((await report([cold.buildId])).buildId).toBe(cold.buildId);
    const table = await env.run(['report', cold.buildId]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`wasted: 100kB (100000 bytes)\n`);
    expect(table.stdout).toContain('time-weighted hit ratio: 0.0% (0.0s saved of ');
    expect(table.stdout).toContain('miss reasons:\n  FROM');
  }, 300_000);

  test('through tsbuildd: the same report (layers too), and --expect-cached fails as embedded', async () => {
    const addr = `unix://${join(env.dir, 'd.sock')}`;
    const daemon = await startDaemon(['--addr', addr, '--root', env.root]);
    try {
      const remote = (args: readonly string[]): Promise<CliResult> => runTsbuild(['--addr', addr, ...args]);
      const d = await remote(['report', '--format', 'json']);
      expect(d.code).toBe(0);
      expect(d.stdout).toBe((await env.run(['report', '--format', 'json'])).stdout);
      expect((JSON.parse(d.stdout) as ReportJson).wastedBytes).toBe(100000);
      await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE.replace('RUN rm /big', 'RUN rm -f /big'));
      // The first two steps come from the cache; the daemon keys the history by the client's context,
      // so to it this Dockerfile was never built.
      const failed = await remote(['build', '--expect-cached', '-t', 'split', ctx]);
      expect(failed.code).toBe(1);
      expect(failed.stderr.trim().split('\n').at(-1)).toBe('error: expected a cached build, but step "RUN rm -f /big" executed: first build of this Dockerfile');
    } finally {
      expect((await daemon.stop()).code).toBe(0);
    }
    await rm(join(env.dir, 'd.sock'), { force: true });
  }, 300_000);

  // `rm -rf /d && mkdir /d` in one RUN makes /d an opaque directory in that layer (overlay's
  // trusted.overlay.opaque xattr): every lower file under it is hidden without being named.
  test('files hidden by an opaque directory count as wasted', async () => {
    const octx = await env.context('opaque', {
      Dockerfile: [`FROM ${BASE}`, 'RUN mkdir -p /d/sub && head -c 50000 /dev/urandom > /d/sub/a && head -c 7000 /dev/urandom > /d/b', 'RUN rm -rf /d && mkdir /d && echo new > /d/c', ''].join('\n'),
    });
    expect((await env.run(['build', '-t', 'opaque', octx])).code).toBe(0);
    const r = await env.run(['report', '--format', 'json', '--last']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as ReportJson;
    const [hidden, opaque] = (rep.layers ?? []).slice(-2);
    expect(hidden).toMatchObject({ size: 57000, files: 2, wastedBytes: 57000 });
    expect(opaque).toMatchObject({ size: 4, files: 1, wastedBytes: 0 });
    expect(rep.wastedBytes).toBe(57000);
  }, 300_000);
});
