/**
 * The charting library the pages embed: Chart.js 4's UMD build (`chart.js/dist/chart.umd.js`, MIT,
 * its licence banner kept), inlined so a page fetches nothing. scripts/bundle.mjs embeds the file in
 * the CLI bundle at build time (the `TSBUILD_CHART_JS` define), so the installed CLI does not read
 * node_modules at run time; unbundled code (tests importing src/) reads it from the chart.js package.
 * Its trailing `sourceMappingURL` comment is dropped: the map is not in the page, and a browser's
 * developer tools would try to fetch it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

declare const TSBUILD_CHART_JS: string | undefined;

/** The library's source, ready to stand in a script element. */
export function chartJsSource(): string {
  const src = typeof TSBUILD_CHART_JS === 'string' ? TSBUILD_CHART_JS : readChartJs();
  return src.replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '\n');
}

function readChartJs(): string {
  // The package's exports map names only its entry points: find the folder from the CommonJS one.
  const main = createRequire(import.meta.url).resolve('chart.js');
  return readFileSync(join(dirname(main), 'chart.umd.js'), 'utf8');
}
