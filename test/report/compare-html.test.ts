/**
 * Issue 13, the compare page (renderCompareHtml) in headless Chromium: from a hand-made
 * CompareReport (2 variants, 2 scenarios; `tsbuild compare` is tested on its own), the page loads
 * with no console or page error and fetches nothing, every chart draws every series, the tables hold
 * the numbers without JavaScript's help, and text that looks like markup stays text. The same checker
 * fails a page whose charting library is not inlined (so these checks can fail).
 */
import { expect, test } from '@jest/globals';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CompareReport, CompareVariant } from '../../src/report/compare-types.js';
import { renderCompareHtml } from '../../src/report/html/compare-html.js';
import { chartJsSource } from '../../src/report/html/chart-lib.js';
import { checkPageInChromium, expectChartsDrawn, haveChromium, SCREENSHOT_DIR } from '../helpers/chromium.js';
import { describeIf } from '../helpers/skip.js';

const HOSTILE = 'touch "</script><script>window.pwned=1</script>" & <b>';

const run = (durationMs: number, stepsCached: number, hitRatio: number | null) => ({ durationMs, stepsTotal: 4, stepsCached, stepsExecuted: 4 - stepsCached, hitRatio });

function variant(name: string, layers: readonly [string, number][], rebuildMs: readonly [number, number], push: readonly [number, number]): CompareVariant {
  const ls = layers.map(([instruction, size]) => ({ instruction, size, compressedSize: Math.round(size / 3), wastedBytes: instruction.startsWith('RUN') ? 1000 : 0 }));
  return {
    name,
    dockerfile: `examples/${name}/Dockerfile`,
    cold: run(9000, 0, 0),
    layers: ls,
    imageSize: ls.reduce((n, l) => n + l.compressedSize, 0),
    uncompressedSize: ls.reduce((n, l) => n + l.size, 0),
    wastedBytes: ls.reduce((n, l) => n + l.wastedBytes, 0),
    rebuilds: [
      { scenario: 's1', run: run(rebuildMs[0], 3, 0.9), pushBytes: push[0], pullBytes: push[0], missReasons: ['COPY app.js ./: app.js changed'] },
      { scenario: 's2', run: run(rebuildMs[1], 1, 0.2), pushBytes: push[1], pullBytes: push[1], missReasons: ['COPY package.json ./: package.json changed', 'RUN npm ci: parent step rebuilt (COPY package.json ./)'] },
    ],
  };
}

const REPORT: CompareReport = {
  schemaVersion: 1,
  context: 'examples/split',
  created: '2026-12-05T10:00:00.000Z',
  scenarios: [
    { id: 's1', description: 'touch app.js', files: ['app.js'] },
    { id: 's2', description: HOSTILE, files: ['package.json'] },
  ],
  variants: [
    variant('split', [['FROM localhost/busybox:latest', 2_000_000], ['COPY package.json ./', 800], ['RUN npm ci', 5_000_000], ['COPY app.js ./', 1200]], [400, 6100], [400, 1_700_000]),
    variant('single', [['FROM localhost/busybox:latest', 2_000_000], ['RUN --mount=type=bind,target=/src build', 4_200_000]], [6500, 6400], [1_400_000, 1_400_000]),
  ],
};

const CHARTS = ['chart-compare-layers', 'chart-compare-rebuild-time', 'chart-compare-push-bytes', 'chart-compare-image-size'];

describeIf(haveChromium, 'needs Debian chromium (/usr/bin/chromium; scripts/install-deps.sh installs it)', 'compare HTML page in Chromium', () => {
  test('no errors, no requests, every chart draws every series, tables and data intact', async () => {
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const shot = join(SCREENSHOT_DIR, 'compare.png');
    const html = renderCompareHtml(REPORT);
    expect(html).toContain('Chart.js v4');
    const check = await checkPageInChromium(html, shot);
    console.info(`compare page screenshot: ${shot}`);
    expect(check.problems).toEqual([]);
    expectChartsDrawn(check, CHARTS);
    // 4 layers stacked for 2 variants; the cold build and 2 scenarios for each variant.
    expect(check.charts[0]?.datasets?.map((d) => d.length)).toEqual([2, 2, 2, 2]);
    expect(check.charts[1]?.datasets?.map((d) => [d.label, d.length])).toEqual([['split', 3], ['single', 3]]);
    expect(check.charts[2]?.datasets?.map((d) => [d.label, d.length])).toEqual([['split', 2], ['single', 2]]);
    expect(check.embedded).toEqual(REPORT);
    // The markup-like scenario text reads back as text, in the tables and in the embedded data.
    expect(check.tableRows).toContain(`${HOSTILE}\tpackage.json\tsplit\t6.10s\t1/4\t20.0%\t1.7MB\t1.7MB`);
    expect(check.tableRows).toContain(`${HOSTILE}\tsplit\tRUN npm ci: parent step rebuilt (COPY package.json ./)`);
    expect(check.tableRows).toContain('split\texamples/split/Dockerfile\t9.00s\t4\t4\t2.33MB\t7MB\t1kB');
    expect(html).not.toContain('<script>window.pwned');
  }, 60_000);

  test('the checker fails a page whose charting library is not inlined', async () => {
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    // The library replaced by a fetch of it (a loopback discard port; aborted before it leaves anyway).
    const fetched = renderCompareHtml(REPORT).replace(`<script>${chartJsSource()}</script>`, '<script src="http://127.0.0.1:9/chart.umd.js"></script>');
    const blocked = await checkPageInChromium(fetched, join(SCREENSHOT_DIR, 'compare-broken.png'));
    // The page's Content-Security-Policy stops the fetch; the checker sees the violation and the missing library.
    expect(blocked.problems.some((p) => p.startsWith('console error: ') && p.includes('violates the following Content Security Policy'))).toBe(true);
    expect(blocked.problems.some((p) => p.startsWith('page error: ') && p.includes('Chart is not defined'))).toBe(true);
    expect(blocked.problems).toContain('the page script did not mark the charts ready');
    expect(blocked.charts.map((c) => c.datasets)).toEqual(CHARTS.map(() => null));
    // Without the policy, the checker itself catches the request.
    const open = await checkPageInChromium(fetched.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, ''), join(SCREENSHOT_DIR, 'compare-broken.png'));
    expect(open.problems).toContain('request: http://127.0.0.1:9/chart.umd.js');
  }, 60_000);
});
