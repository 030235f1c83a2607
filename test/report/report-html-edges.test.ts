/**
 * The HTML pages where their data is thin: a report without recorded layers (a failed build, or one
 * read through tsbuildd) draws only the step chart, with a series for the failed step; a compare
 * without change scenarios draws the cold build times and no bytes-to-ship chart. Both load in
 * headless Chromium with no error and no request, and every chart they do draw has all its bars.
 * The escaping helpers keep markup-like text inert (unit checks, no browser needed).
 */
import { expect, test } from '@jest/globals';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildReport } from '../../src/report/build-report.js';
import type { CompareReport } from '../../src/report/compare-types.js';
import { renderCompareHtml } from '../../src/report/html/compare-html.js';
import { escapeHtml, jsonForScript, scriptText } from '../../src/report/html/escape.js';
import { renderReportHtml } from '../../src/report/html/report-html.js';
import { checkPageInChromium, expectChartsDrawn, haveChromium, SCREENSHOT_DIR } from '../helpers/chromium.js';
import { describeIf } from '../helpers/skip.js';

const FAILED: BuildReport = {
  buildId: 'b1', description: 'app', dockerfile: '/ctx/Dockerfile', status: 'failed', started: Date.UTC(2026, 11, 5), durationMs: 1500,
  stepsTotal: 2, stepsCached: 1, stepsExecuted: 0,
  hitRatio: { timeSavedMs: 0, coldMs: 0, ratio: null, coldUnknown: 2 },
  steps: [
    { name: '[1/2] FROM x', instruction: 'FROM x', stage: '0', outcome: 'cached', durationMs: 5, coldMs: null, savedMs: 0, layerSize: null, why: null },
    { name: '[2/2] RUN false', instruction: 'RUN false', stage: '0', outcome: 'failed', durationMs: 1200, coldMs: null, savedMs: 0, layerSize: null, why: 'instruction text changed' },
  ],
  layers: null, imageSize: null, wastedBytes: null, missReasons: [],
};

const NO_SCENARIOS: CompareReport = {
  schemaVersion: 1, context: '.', created: '2026-12-05T10:00:00.000Z', scenarios: [],
  variants: ['a', 'b'].map((name, i) => ({
    name, dockerfile: `${name}/Dockerfile`, cold: { durationMs: 1000 * (i + 1), stepsTotal: 2, stepsCached: 0, stepsExecuted: 2, hitRatio: 0 },
    layers: [{ instruction: 'FROM x', size: 100, compressedSize: 50, wastedBytes: 0 }], imageSize: 50, uncompressedSize: 100, wastedBytes: 0, rebuilds: [],
  })),
};

test('escaping: text, attributes, JSON in a script element, and script text that would end its element', () => {
  expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  const tricky = { s: '</script><!-- & \u2028\u2029 >' };
  const json = jsonForScript(tricky);
  expect(json).not.toMatch(/[<>&\u2028\u2029]/);
  expect(JSON.parse(json)).toEqual(tricky);
  expect(() => scriptText('var s = "</script>";')).toThrow('cannot be inlined');
  expect(scriptText('var a = 1 < 2;')).toBe('var a = 1 < 2;');
});

describeIf(haveChromium, 'needs Debian chromium (/usr/bin/chromium; scripts/install-deps.sh installs it)', 'HTML pages with thin data in Chromium', () => {
  test('a failed build without layers: the step chart only, with the failed step as its own series', async () => {
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const check = await checkPageInChromium(renderReportHtml(FAILED), join(SCREENSHOT_DIR, 'report-failed.png'));
    expect(check.problems).toEqual([]);
    expectChartsDrawn(check, ['chart-step-time']);
    expect(check.charts[0]?.datasets?.map((d) => d.label)).toEqual(['executed', 'cached', 'saved by the cache', 'skipped, failed or cancelled']);
    expect(check.tableRows).toContain('2\tRUN false\t0\tfailed\t1.20s\t?\t0.00s\t-\tinstruction text changed');
  }, 60_000);

  test('a compare without scenarios: cold build times, layers and image sizes, no bytes-to-ship chart', async () => {
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const check = await checkPageInChromium(renderCompareHtml(NO_SCENARIOS), join(SCREENSHOT_DIR, 'compare-no-scenarios.png'));
    expect(check.problems).toEqual([]);
    expectChartsDrawn(check, ['chart-compare-layers', 'chart-compare-rebuild-time', 'chart-compare-image-size']);
    expect(check.charts[1]?.datasets?.map((d) => [d.label, d.length])).toEqual([['a', 1], ['b', 1]]);
  }, 60_000);
});
