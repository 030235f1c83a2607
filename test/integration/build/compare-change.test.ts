/**
 * Issue 13, `tsbuild compare` with `--change` scenarios, through the real CLI on two small variants
 * of one context: the table and the JSON (valid against docs/report-schema.json) say which steps a
 * change rebuilt and why; a failing `--change` command is one clear error with a non-zero exit;
 * through tsbuildd the steps and layer sizes are the embedded ones. Scratch roots and context
 * copies go under the test's TMPDIR, which must be empty afterwards.
 */
import { expect, test } from '@jest/globals';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BASE, describeBuilds, useBuildEnv } from '../../helpers/build-env.js';
import { runTsbuild, type CliResult } from '../../helpers/cli.js';
import { startDaemon } from '../../helpers/daemon.js';
import { reportSchemaErrors } from '../../helpers/report-schema.js';
import type { CompareReport } from '../../../src/report/compare-types.js';

// split copies a.txt last, so a change to it keeps the steps before; single copies both at once.
const SPLIT = [`FROM ${BASE}`, 'COPY b.txt /b.txt', 'COPY a.txt /a.txt', 'RUN cat /a.txt /b.txt > /ab', ''].join('\n');
const SINGLE = [`FROM ${BASE}`, 'COPY a.txt b.txt /src/', 'RUN cat /src/a.txt /src/b.txt > /ab', ''].join('\n');
const CHANGE = 'echo x >> a.txt';

describeBuilds('tsbuild compare --change', () => {
  const env = useBuildEnv();
  let ctx = '';
  let split = '';
  let single = '';
  let tmp = '';
  let embedded: CompareReport | undefined;

  const compare = async (extra: readonly string[], via: readonly string[] = []): Promise<CliResult> => {
    await mkdir(tmp, { recursive: true });
    const args = [...via, 'compare', '-f', split, '-f', single, ...extra, ctx];
    const r = via.length > 0 ? await runTsbuild(args, { env: { TMPDIR: tmp }, timeoutMs: 300_000 }) : await env.run(args, { env: { TMPDIR: tmp }, timeoutMs: 300_000 });
    // Nothing left behind: no scratch root, no context copy, no archive.
    expect(await readdir(tmp)).toEqual([]);
    return r;
  };

  test('the table and the JSON of one --change scenario', async () => {
    ctx = await env.context('ctx', { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const dfs = await env.context('dfs', { 'Dockerfile.split': SPLIT, 'Dockerfile.single': SINGLE });
    split = join(dfs, 'Dockerfile.split');
    single = join(dfs, 'Dockerfile.single');
    tmp = join(env.dir, 'tmp');

    const t = await compare(['--change', CHANGE]);
    expect(t.code).toBe(0);
    const lines = t.stdout.split('\n');
    expect(lines[0]).toBe(`2 variants of ${ctx}, 1 change scenario(s)`);
    expect(lines[2]).toMatch(/^VARIANT +COLD BUILD +STEPS +LAYERS +IMAGE SIZE +UNCOMPRESSED +WASTED +DOCKERFILE$/);
    expect(lines[3]).toMatch(new RegExp(`^split +[0-9.]+s +4 +4 +\\S+ +\\S+ +0B +${split}$`));
    expect(lines[4]).toMatch(new RegExp(`^single +[0-9.]+s +3 +3 +\\S+ +\\S+ +0B +${single}$`));
    expect(lines[6]).toMatch(/^SCENARIO +VARIANT +REBUILD +CACHED +HIT RATIO +PUSH +PULL +FIRST MISS$/);
    expect(lines[7]).toMatch(/^s1 echo x >> a\.txt +split +[0-9.]+s +2\/4 +[0-9.]+% +\S+ +\S+ +COPY a\.txt \/a\.txt: a\.txt changed \(\+1 more\)$/);
    expect(lines[8]).toMatch(/^s1 echo x >> a\.txt +single +[0-9.]+s +1\/3 +[0-9.]+% +\S+ +\S+ +COPY a\.txt b\.txt \/src\/: a\.txt changed \(\+1 more\)$/);
    expect(lines.slice(9)).toEqual(['']);

    const out = join(env.dir, 'compare.json');
    const j = await compare(['--change', CHANGE, '--format', 'json', '-o', out]);
    expect(j.code).toBe(0);
    expect(j.stdout).toBe('');
    const report = JSON.parse(await readFile(out, 'utf8')) as CompareReport;
    expect(reportSchemaErrors('CompareReport', report)).toEqual([]);
    expect(report.scenarios).toEqual([{ id: 's1', description: CHANGE, files: ['a.txt'] }]);
    const [s, g] = report.variants;
    expect(s?.name).toBe('split');
    expect(g?.name).toBe('single');
    expect(s?.layers.map((l) => l.instruction)).toEqual([`FROM ${BASE}`, 'COPY b.txt /b.txt', 'COPY a.txt /a.txt', 'RUN cat /a.txt /b.txt > /ab']);
    expect(g?.layers.map((l) => l.instruction)).toEqual([`FROM ${BASE}`, 'COPY a.txt b.txt /src/', 'RUN cat /src/a.txt /src/b.txt > /ab']);
    for (const v of report.variants) {
      expect(v.cold).toMatchObject({ stepsCached: 0, stepsExecuted: v.cold.stepsTotal, hitRatio: 0 });
      expect(v.imageSize).toBe(v.layers.reduce((n, l) => n + l.compressedSize, 0));
      expect(v.uncompressedSize).toBe(v.layers.reduce((n, l) => n + l.size, 0));
      // The cold image's top layer: /ab, the cat of "a\n" and "b\n".
      expect(v.layers.at(-1)?.size).toBe(4);
      const r = v.rebuilds[0];
      expect(r?.run.stepsCached! + r?.run.stepsExecuted!).toBe(r?.run.stepsTotal);
      // Every layer above the changed COPY is new; the base (and split's COPY b.txt) is not.
      expect(r?.pushBytes).toBeGreaterThan(0);
      expect(r?.pushBytes).toBeLessThan(v.imageSize);
      expect(r?.pullBytes).toBe(r?.pushBytes);
    }
    expect(s?.rebuilds[0]?.missReasons).toEqual(['COPY a.txt /a.txt: a.txt changed', 'RUN cat /a.txt /b.txt > /ab: parent step rebuilt (COPY a.txt /a.txt)']);
    expect(g?.rebuilds[0]?.missReasons).toEqual(['COPY a.txt b.txt /src/: a.txt changed', 'RUN cat /src/a.txt /src/b.txt > /ab: parent step rebuilt (COPY a.txt b.txt /src/)']);
    expect(s?.rebuilds[0]?.run).toMatchObject({ stepsTotal: 4, stepsCached: 2, stepsExecuted: 2 });
    expect(g?.rebuilds[0]?.run).toMatchObject({ stepsTotal: 3, stepsCached: 1, stepsExecuted: 2 });
    embedded = report;
  }, 600_000);

  test('a failing --change command: one clear error, exit 1', async () => {
    const r = await compare(['--change', 'echo oops >&2; exit 3']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error'));
    expect(errors).toEqual(['error: --change "echo oops >&2; exit 3" failed with exit status 3 in a copy of the context: oops']);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    // The user's context is untouched.
    expect(await readFile(join(ctx, 'a.txt'), 'utf8')).toBe('a\n');
  }, 600_000);

  test('through tsbuildd: the same steps and layer sizes as embedded', async () => {
    expect(embedded).toBeDefined();
    const sock = join(env.dir, 'd.sock');
    const daemon = await startDaemon(['--addr', `unix://${sock}`, '--root', env.root]);
    let report: CompareReport;
    try {
      const out = join(env.dir, 'remote.json');
      const r = await compare(['--change', CHANGE, '--format', 'json', '-o', out], ['--addr', `unix://${sock}`]);
      expect(r.stderr).not.toContain('error');
      expect(r.code).toBe(0);
      report = JSON.parse(await readFile(out, 'utf8')) as CompareReport;
    } finally {
      expect((await daemon.stop()).code).toBe(0);
    }
    await rm(sock, { force: true });
    expect(reportSchemaErrors('CompareReport', report)).toEqual([]);
    const shape = (c: CompareReport): unknown => c.variants.map((v) => ({
      name: v.name,
      cold: [v.cold.stepsTotal, v.cold.stepsCached, v.cold.stepsExecuted],
      layers: v.layers.map((l) => [l.instruction, l.size, l.wastedBytes]),
      uncompressed: v.uncompressedSize,
      rebuilds: v.rebuilds.map((b) => [b.scenario, b.run.stepsTotal, b.run.stepsCached, b.run.stepsExecuted, b.missReasons]),
    }));
    expect(shape(report)).toEqual(shape(embedded as CompareReport));
    expect(report.scenarios).toEqual(embedded?.scenarios);
  }, 600_000);
});
