/**
 * The inline style sheet and page script of the report pages. The script is plain ES2017 as a
 * string (it runs in the browser, not in Node): it reads the page's JSON block (`#tsbuild-data`,
 * whose `charts` are ChartSpec values), draws each chart into its canvas with the embedded Chart.js,
 * and marks `<html data-charts="ready">` when all are drawn (what a test waits for). Animations are
 * off so a chart is complete as soon as it is created.
 */

export const PAGE_CSS = `
:root { color-scheme: light; --fg: #1d2430; --muted: #5a6474; --line: #d8dde5; --bg: #ffffff; --band: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.sub { color: var(--muted); margin: 0 0 16px; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0 0 8px; }
dl.summary dt { color: var(--muted); }
dl.summary dd { margin: 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
figure { margin: 0; padding: 12px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); }
figure h3 { font-size: 15px; margin: 0 0 8px; }
.chart { position: relative; height: 320px; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 6px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--band); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
.noscript { padding: 8px; background: #fff4e0; border: 1px solid #f0ad4e; }
`;

export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('tsbuild-data').textContent);
  var palette = ['#4a7fb5', '#e07b39', '#5cb85c', '#9b59b6', '#d9534f', '#17a2b8', '#b5a642', '#7f8c8d', '#e83e8c', '#20c997'];
  var units = ['B', 'kB', 'MB', 'GB', 'TB'];
  function bytes(v) {
    var n = Math.max(0, v), u = 0;
    while (n >= 999.5 && u < units.length - 1) { n /= 1000; u++; }
    return Number(n.toPrecision(3)) + units[u];
  }
  function secs(v) { return (v / 1000).toFixed(v < 10000 ? 2 : 1) + 's'; }
  data.charts.forEach(function (spec) {
    var fmt = spec.unit === 'bytes' ? bytes : secs;
    var valueAxis = spec.horizontal ? 'x' : 'y';
    var categoryAxis = spec.horizontal ? 'y' : 'x';
    var scales = {};
    scales[categoryAxis] = { stacked: spec.stacked, ticks: { autoSkip: false } };
    scales[valueAxis] = { stacked: spec.stacked, beginAtZero: true, ticks: { callback: function (v) { return fmt(v); } } };
    new Chart(document.getElementById(spec.id), {
      type: 'bar',
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d, i) {
          var ds = { label: d.label, data: d.data, backgroundColor: d.color || palette[i % palette.length] };
          if (d.stack) ds.stack = d.stack;
          return ds;
        }),
      },
      options: {
        indexAxis: categoryAxis,
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: scales,
        plugins: {
          legend: { position: 'bottom' },
          tooltip: { callbacks: { label: function (c) { return c.dataset.label + ': ' + fmt(c.parsed[valueAxis]); } } },
        },
      },
    });
  });
  document.documentElement.setAttribute('data-charts', 'ready');
})();
`;
