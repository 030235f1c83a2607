/**
 * One self-contained HTML page: inline style, the embedded Chart.js, the page's data as JSON in a
 * `<script type="application/json" id="tsbuild-data">` block, and the page script that draws the
 * charts from it. A Content-Security-Policy forbids every fetch, so a page that would load anything
 * from the network fails loudly instead of working only online. The tables are plain HTML: the page
 * reads without JavaScript, only the charts need it.
 */
import { chartJsSource } from './chart-lib.js';
import type { ChartSpec } from './chart-spec.js';
import { escapeHtml, jsonForScript, scriptText } from './escape.js';
import { PAGE_CSS, PAGE_SCRIPT } from './page-assets.js';

export interface PageInput {
  /** The document title and the heading. */
  readonly title: string;
  /** One line under the heading (plain text). */
  readonly subtitle: string;
  /** Label → value lines at the top (plain text). */
  readonly summary: readonly (readonly [string, string])[];
  readonly charts: readonly ChartSpec[];
  /** HTML of the sections after the charts (tables, lists); the caller escapes their text. */
  readonly sectionsHtml: readonly string[];
  /** What the page shows, as data (the report itself); embedded beside the chart specs. */
  readonly data: unknown;
}

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

export function renderPage(p: PageInput): string {
  const summary = p.summary.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('\n');
  const charts = p.charts.map((c) => [
    '<figure>',
    `<h3>${escapeHtml(c.title)}</h3>`,
    `<div class="chart"><canvas id="${escapeHtml(c.id)}" role="img" aria-label="${escapeHtml(c.title)}"></canvas></div>`,
    `<figcaption>${escapeHtml(c.caption)}</figcaption>`,
    '</figure>',
  ].join('\n')).join('\n');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(p.title)}</title>`,
    `<style>${PAGE_CSS}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(p.title)}</h1>`,
    `<p class="sub">${escapeHtml(p.subtitle)}</p>`,
    `<dl class="summary">\n${summary}\n</dl>`,
    ...(p.charts.length > 0
      ? ['<h2>Charts</h2>', '<noscript><p class="noscript">The charts need JavaScript; the tables below hold the same numbers.</p></noscript>', `<div class="charts">\n${charts}\n</div>`]
      : []),
    ...p.sectionsHtml,
    `<script type="application/json" id="tsbuild-data">${jsonForScript({ data: p.data, charts: p.charts })}</script>`,
    `<script>${scriptText(chartJsSource())}</script>`,
    `<script>${scriptText(PAGE_SCRIPT)}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
