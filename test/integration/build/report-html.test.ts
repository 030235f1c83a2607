/**
 * Issue 13, `tsbuild report --format html` through the real CLI: a build, then a rebuild after one
 * context file changed; `report --last --format html -o FILE` writes one self-contained page that
 * headless Chromium loads with no console or page error and no request, whose two charts (time per
 * step, layer sizes with wasted bytes) draw a bar per step and per layer for each series, whose
 * embedded data is exactly `report --format json`, and whose tables and miss reasons read without
 * JavaScript. Without -o the same page goes to standard output; an unwritable FILE is one error line.
 */
import { expect } from '@jest/globals';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BASE, describeBuilds, useBuildEnv } from '../../helpers/build-env.js';
import { checkPageInChromium, expectChartsDrawn, haveChromium, SCREENSHOT_DIR } from '../../helpers/chromium.js';
import { testIf } from '../../helpers/skip.js';

const DOCKERFILE = [
  `FROM ${BASE}`,
  'COPY a.txt /a.txt',
  'RUN head -c 50000 /dev/urandom > /big',
  'RUN rm /big',
  'COPY b.txt /b.txt',
  '',
].join('\n');

interface ReportJson {
  readonly steps: readonly { readonly instruction: string; readonly outcome: string }[];
  readonly layers: readonly unknown[] | null;
  readonly wastedBytes: number | null;
  readonly missReasons: readonly string[];
}

describeBuilds('tsbuild report --format html', () => {
  const env = useBuildEnv();

  testIf(haveChromium, 'needs Debian chromium (/usr/bin/chromium; scripts/install-deps.sh installs it)', 'a rebuild\'s page: charts drawn, data and tables intact, nothing fetched', async () => {
    const ctx = await env.context('app', { 'a.txt': 'a\n', 'b.txt': 'b1\n', Dockerfile: DOCKERFILE });
    expect((await env.run(['build', '-t', 'app', ctx])).code).toBe(0);
    await writeFile(join(ctx, 'b.txt'), 'b2\n');
    expect((await env.run(['build', '-t', 'app', ctx])).code).toBe(0);

    const json = await env.run(['report', '--last', '--format', 'json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as ReportJson;
    expect(report.steps.map((s) => s.outcome)).toEqual(['cached', 'cached', 'cached', 'cached', 'executed']);
    expect(report.wastedBytes).toBe(50000);
    const layers = report.layers ?? [];
    expect(layers.length).toBeGreaterThan(0);

    const file = join(env.dir, 'report.html');
    const written = await env.run(['report', '--last', '--format', 'html', '-o', file]);
    expect({ code: written.code, stdout: written.stdout, stderr: written.stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
    const html = await readFile(file, 'utf8');
    expect(html).toContain('Chart.js v4');
    expect(html).not.toContain('sourceMappingURL');
    const toStdout = await env.run(['report', '--last', '--format', 'html']);
    expect(toStdout.code).toBe(0);
    expect(toStdout.stdout).toBe(html);

    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const shot = join(SCREENSHOT_DIR, 'report.png');
    const check = await checkPageInChromium(html, shot);
    console.info(`report page screenshot: ${shot}`);
    expect(check.problems).toEqual([]);
    expectChartsDrawn(check, ['chart-step-time', 'chart-layer-sizes']);
    expect(check.charts[0]?.datasets?.map((d) => [d.label, d.length])).toEqual(
      ['executed', 'cached', 'saved by the cache'].map((l) => [l, report.steps.length]),
    );
    expect(check.charts[1]?.datasets?.map((d) => d.length)).toEqual([layers.length, layers.length]);
    expect(check.embedded).toEqual(report);
    const stepRows = check.tableRows.filter((r) => /^\d+\t/.test(r) && r.split('\t').length === 9);
    expect(stepRows.map((r) => r.split('\t')).map((c) => [c[1], c[3]])).toEqual(report.steps.map((s) => [s.instruction, s.outcome]));
    expect(report.missReasons).toEqual(['COPY b.txt /b.txt: b.txt changed']);
    for (const m of report.missReasons) expect(html).toContain(`<li><code>${m}</code></li>`);

    const unwritable = await env.run(['report', '--format', 'html', '-o', join(env.dir, 'no-such-dir', 'r.html')]);
    expect(unwritable.code).toBe(1);
    expect(unwritable.stderr).toMatch(/^error: cannot write the report to .*no-such-dir\/r\.html: ENOENT/);
  }, 300_000);
});
