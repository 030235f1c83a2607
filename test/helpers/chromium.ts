/**
 * Opens a self-contained HTML page in headless Chromium (Debian's `chromium`, driven by
 * puppeteer-core) and reports what went wrong in it: console errors, uncaught page errors, and any
 * request other than `data:`/`about:` (each is aborted before it leaves, and counts as a problem:
 * the pages must fetch nothing). Then reads every canvas's Chart.js chart (dataset lengths and how
 * many elements each drew) and saves a full-page screenshot. Root needs `--no-sandbox`.
 */
import { expect } from '@jest/globals';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { CHROMIUM_BIN } from './requirements.mjs';

export const haveChromium = existsSync(CHROMIUM_BIN);

export interface DrawnDataset {
  readonly label: string;
  /** Values in the dataset. */
  readonly length: number;
  /** Elements (bars) Chart.js made for it: getDatasetMeta(i).data.length. */
  readonly drawn: number;
}

export interface DrawnChart {
  readonly id: string;
  /** Null when the canvas holds no Chart.js chart. */
  readonly datasets: readonly DrawnDataset[] | null;
}

export interface PageCheck {
  /** Console errors, page errors, requests, and a page whose charts never became ready. */
  readonly problems: readonly string[];
  readonly charts: readonly DrawnChart[];
  /** The text of the page's tables, row by row (cells joined with tabs). */
  readonly tableRows: readonly string[];
  /** The `data` member of the page's JSON block (`#tsbuild-data`), parsed in the page. */
  readonly embedded: unknown;
}

const READ_CHARTS = `Array.from(document.querySelectorAll('canvas')).map((c) => {
  const chart = typeof Chart === 'undefined' ? undefined : Chart.getChart(c);
  return { id: c.id, datasets: chart ? chart.data.datasets.map((d, i) => ({ label: String(d.label), length: d.data.length, drawn: chart.getDatasetMeta(i).data.length })) : null };
})`;
const READ_TABLES = `Array.from(document.querySelectorAll('table tr')).map((r) => Array.from(r.cells).map((c) => c.textContent).join('\\t'))`;
const READ_DATA = `JSON.parse(document.getElementById('tsbuild-data').textContent).data`;

/** The folder the page tests leave their screenshots in (one file per page, replaced each run). */
export const SCREENSHOT_DIR = join(tmpdir(), 'tsbuild-html-screenshots');

/** Every chart in `ids` order is a Chart.js chart whose datasets each drew one bar per value (and at least one). */
export function expectChartsDrawn(check: PageCheck, ids: readonly string[]): void {
  expect(check.charts.map((c) => c.id)).toEqual(ids);
  for (const c of check.charts) {
    expect({ id: c.id, drawn: c.datasets !== null && c.datasets.length > 0 }).toEqual({ id: c.id, drawn: true });
    for (const d of c.datasets ?? []) {
      expect({ id: c.id, label: d.label, drawn: d.drawn }).toEqual({ id: c.id, label: d.label, drawn: d.length });
      expect(d.length).toBeGreaterThan(0);
    }
  }
}

/** Loads `html`, checks it, and writes a PNG screenshot of the whole page to `screenshot`. */
export async function checkPageInChromium(html: string, screenshot: string): Promise<PageCheck> {
  const problems: string[] = [];
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM_BIN,
    headless: true,
    // No DNS at all: nothing the page (or the browser) asks for can leave the machine.
    args: ['--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP * ~NOTFOUND'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      const url = req.url();
      if (url.startsWith('data:') || url.startsWith('about:')) void req.continue();
      else {
        problems.push(`request: ${url}`);
        void req.abort();
      }
    });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
    await page.setContent(html, { waitUntil: 'load', timeout: 30_000 });
    // The page script runs before the load event: by now it has drawn the charts or failed.
    if ((await page.evaluate('document.documentElement.dataset.charts')) !== 'ready') problems.push('the page script did not mark the charts ready');
    const charts = (await page.evaluate(READ_CHARTS)) as DrawnChart[];
    const tableRows = (await page.evaluate(READ_TABLES)) as string[];
    const embedded: unknown = await page.evaluate(READ_DATA);
    await page.screenshot({ path: screenshot as `${string}.png`, fullPage: true });
    return { problems, charts, tableRows, embedded };
  } finally {
    await browser.close();
  }
}
