/**
 * `tsbuild report --format html`: one past build as a self-contained page — each step's time
 * (executed or cached, and what the cache saved), the image's layers with their wasted bytes, and the
 * same numbers as tables (steps, layers, miss reasons). Data: BuildReport (build-report.ts).
 */
import type { BuildReport } from '../build-report.js';
import { axisLabel, COLORS, type ChartSpec } from './chart-spec.js';
import { formatBytes, formatMs, formatRatio } from './format.js';
import { renderPage } from './page.js';
import { htmlList, htmlTable } from './table.js';

export function renderReportHtml(r: BuildReport): string {
  const h = r.hitRatio;
  const summary: [string, string][] = [
    ['Dockerfile', r.dockerfile],
    ['status', `${r.status}${r.durationMs !== null ? ` in ${formatMs(r.durationMs)}` : ''}`],
    ['started', new Date(r.started).toISOString()],
    ['steps', `${r.stepsTotal} (${r.stepsCached} cached, ${r.stepsExecuted} executed)`],
    ['time-weighted hit ratio', `${formatRatio(h.ratio)} (${formatMs(h.timeSavedMs)} saved of ${formatMs(h.coldMs)} cold`
      + `${h.coldUnknown > 0 ? `; ${h.coldUnknown} step(s) never seen executing` : ''})`],
    ['image size', r.imageSize === null ? 'not recorded' : `${formatBytes(r.imageSize)} (${r.imageSize} bytes) in ${r.layers?.length ?? 0} layers`],
    ['wasted', r.wastedBytes === null ? 'not recorded' : `${formatBytes(r.wastedBytes)} (${r.wastedBytes} bytes)`],
  ];
  return renderPage({
    title: `tsbuild report: build ${r.buildId}`,
    subtitle: r.description,
    summary,
    charts: reportCharts(r),
    sectionsHtml: [
      '<h2>Steps</h2>',
      htmlTable('Each step: cached or executed, its time, its time when it executes (cold), and why it executed', [
        { title: '#', num: true }, { title: 'step' }, { title: 'stage' }, { title: 'result' }, { title: 'time', num: true },
        { title: 'cold', num: true }, { title: 'saved', num: true }, { title: 'layer', num: true }, { title: 'why' },
      ], r.steps.map((s, i) => [
        String(i + 1), s.instruction, s.stage, s.outcome, formatMs(s.durationMs), formatMs(s.coldMs), formatMs(s.savedMs),
        formatBytes(s.layerSize), s.why ?? '',
      ])),
      '<h2>Layers</h2>',
      r.layers === null
        ? '<p>Layers were not recorded for this build.</p>'
        : htmlTable('The image\'s layers, bottom (base image) first; wasted bytes are replaced or deleted by a later layer', [
          { title: 'layer', num: true }, { title: 'size', num: true }, { title: 'bytes', num: true }, { title: 'files', num: true },
          { title: 'wasted', num: true }, { title: 'wasted bytes', num: true },
        ], r.layers.map((l) => [String(l.index), formatBytes(l.size), String(l.size), String(l.files), formatBytes(l.wastedBytes), String(l.wastedBytes)])),
      '<h2>Miss reasons</h2>',
      htmlList(r.missReasons, 'Every step came from the cache.'),
    ],
    data: r,
  });
}

/** Per-step time by outcome (with what the cache saved), and layer sizes split into kept and wasted. */
export function reportCharts(r: BuildReport): ChartSpec[] {
  const charts: ChartSpec[] = [];
  if (r.steps.length > 0) {
    const by = (outcome: string): number[] => r.steps.map((s) => (s.outcome === outcome ? s.durationMs : 0));
    const other = r.steps.map((s) => (s.outcome === 'cached' || s.outcome === 'executed' ? 0 : s.durationMs));
    charts.push({
      id: 'chart-step-time',
      title: 'Time per step',
      unit: 'ms',
      stacked: true,
      horizontal: true,
      labels: r.steps.map((s, i) => `${i + 1}. ${axisLabel(s.instruction)}`),
      datasets: [
        { label: 'executed', data: by('executed'), color: COLORS.executed },
        { label: 'cached', data: by('cached'), color: COLORS.cached },
        { label: 'saved by the cache', data: r.steps.map((s) => s.savedMs), color: COLORS.saved },
        ...(other.some((v) => v > 0) ? [{ label: 'skipped, failed or cancelled', data: other }] : []),
      ],
      caption: 'A cached step\'s bar is the time it took plus the time it saved (its cold time, from the last build that executed it).',
    });
  }
  if (r.layers !== null && r.layers.length > 0) {
    charts.push({
      id: 'chart-layer-sizes',
      title: 'Layer sizes',
      unit: 'bytes',
      stacked: true,
      horizontal: false,
      labels: r.layers.map((l) => `layer ${l.index}`),
      datasets: [
        { label: 'kept', data: r.layers.map((l) => l.size - l.wastedBytes), color: COLORS.kept },
        { label: 'wasted (hidden or deleted by a later layer)', data: r.layers.map((l) => l.wastedBytes), color: COLORS.wasted },
      ],
      caption: 'Uncompressed bytes of each layer\'s files, bottom (base image) first.',
    });
  }
  return charts;
}
