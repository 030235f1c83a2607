/**
 * `tsbuild compare --format html`: Dockerfile variants of one context side by side, as one
 * self-contained page — layer sizes stacked per variant, rebuild time per change scenario, bytes a
 * push must send after each change, image sizes — and the same numbers as tables (variants,
 * rebuilds, layers, miss reasons). Data: CompareReport (compare-types.ts).
 */
import type { CompareRebuild, CompareReport, CompareVariant } from '../compare-types.js';
import { axisLabel, type ChartSpec } from './chart-spec.js';
import { formatBytes, formatMs, formatRatio } from './format.js';
import { renderPage } from './page.js';
import { htmlTable } from './table.js';

export function renderCompareHtml(r: CompareReport): string {
  const names = r.variants.map((v) => v.name).join(' vs ');
  const rebuildRows: string[][] = [];
  const missRows: string[][] = [];
  for (const s of r.scenarios) {
    for (const v of r.variants) {
      const b = rebuildOf(v, s.id);
      if (!b) continue;
      rebuildRows.push([s.description, s.files.join(', '), v.name, formatMs(b.run.durationMs), `${b.run.stepsCached}/${b.run.stepsTotal}`,
        formatRatio(b.run.hitRatio), formatBytes(b.pushBytes), formatBytes(b.pullBytes)]);
      for (const m of b.missReasons) missRows.push([s.description, v.name, m]);
    }
  }
  return renderPage({
    title: `tsbuild compare: ${names}`,
    subtitle: `context ${r.context}, ${r.created}`,
    summary: [
      ['variants', r.variants.map((v) => `${v.name} (${v.dockerfile})`).join(', ')],
      ['change scenarios', String(r.scenarios.length)],
    ],
    charts: compareCharts(r),
    sectionsHtml: [
      '<h2>Variants</h2>',
      htmlTable('Each variant built cold in a scratch store', [
        { title: 'variant' }, { title: 'Dockerfile' }, { title: 'cold build', num: true }, { title: 'steps', num: true },
        { title: 'layers', num: true }, { title: 'image (compressed)', num: true }, { title: 'uncompressed', num: true }, { title: 'wasted', num: true },
      ], r.variants.map((v) => [v.name, v.dockerfile, formatMs(v.cold.durationMs), String(v.cold.stepsTotal), String(v.layers.length),
        formatBytes(v.imageSize), formatBytes(v.uncompressedSize), formatBytes(v.wastedBytes)])),
      '<h2>Rebuilds after each change</h2>',
      htmlTable('Rebuild time, steps served from the cache, time-weighted hit ratio, and what a push sends and a pull fetches when the other side holds the previous image', [
        { title: 'scenario' }, { title: 'changed files' }, { title: 'variant' }, { title: 'time', num: true }, { title: 'cached', num: true },
        { title: 'hit ratio', num: true }, { title: 'push', num: true }, { title: 'pull', num: true },
      ], rebuildRows),
      '<h2>Layers</h2>',
      htmlTable('Each variant\'s layers, bottom first', [
        { title: 'variant' }, { title: '#', num: true }, { title: 'instruction' }, { title: 'size', num: true },
        { title: 'compressed', num: true }, { title: 'wasted', num: true },
      ], r.variants.flatMap((v) => v.layers.map((l, i) => [v.name, String(i + 1), l.instruction, formatBytes(l.size),
        formatBytes(l.compressedSize), formatBytes(l.wastedBytes)]))),
      '<h2>Miss reasons</h2>',
      htmlTable('Every step a rebuild executed, and why', [{ title: 'scenario' }, { title: 'variant' }, { title: 'step: why' }], missRows),
    ],
    data: r,
  });
}

function rebuildOf(v: CompareVariant, scenario: string): CompareRebuild | undefined {
  return v.rebuilds.find((b) => b.scenario === scenario);
}

/** Layers stacked per variant, rebuild time and push bytes per scenario per variant, image sizes. */
export function compareCharts(r: CompareReport): ChartSpec[] {
  const variants = r.variants.map((v) => v.name);
  const depth = Math.max(0, ...r.variants.map((v) => v.layers.length));
  const scenarioLabels = r.scenarios.map((s) => axisLabel(s.description, 32));
  const charts: ChartSpec[] = [];
  if (r.variants.length === 0) return charts;
  if (depth > 0) {
    charts.push({
      id: 'chart-compare-layers', title: 'Layer sizes per variant', unit: 'bytes', stacked: true, horizontal: false, labels: variants,
      datasets: Array.from({ length: depth }, (_, i) => ({ label: `layer ${i + 1}`, data: r.variants.map((v) => v.layers[i]?.size ?? 0) })),
      caption: 'Uncompressed bytes of each variant\'s layers, stacked bottom (base image) first; the Layers table names them.',
    });
  }
  charts.push({
    id: 'chart-compare-rebuild-time', title: 'Build time per scenario', unit: 'ms', stacked: false, horizontal: false,
    labels: ['cold build', ...scenarioLabels],
    datasets: r.variants.map((v) => ({
      label: v.name,
      data: [v.cold.durationMs, ...r.scenarios.map((s) => rebuildOf(v, s.id)?.run.durationMs ?? 0)],
    })),
    caption: 'The cold build, then the rebuild after each change scenario.',
  });
  if (r.scenarios.length > 0) {
    charts.push({
      id: 'chart-compare-push-bytes', title: 'Bytes to ship after each change', unit: 'bytes', stacked: false, horizontal: false,
      labels: scenarioLabels,
      datasets: r.variants.map((v) => ({ label: v.name, data: r.scenarios.map((s) => rebuildOf(v, s.id)?.pushBytes ?? 0) })),
      caption: 'Compressed layer bytes a push must send when the registry holds the previous image.',
    });
  }
  charts.push({
    id: 'chart-compare-image-size', title: 'Image size', unit: 'bytes', stacked: false, horizontal: false, labels: variants,
    datasets: [
      { label: 'compressed (first push)', data: r.variants.map((v) => v.imageSize) },
      { label: 'uncompressed', data: r.variants.map((v) => v.uncompressedSize) },
      { label: 'wasted', data: r.variants.map((v) => v.wastedBytes) },
    ],
    caption: 'What a first push sends, the unpacked size, and bytes later layers hide or delete.',
  });
  return charts;
}
