/**
 * The charting library the pages embed: Chart.js 4's UMD build (`chart.js/dist/chart.umd.js`, MIT,
 * its licence banner kept), inlined so a page fetches nothing. scripts/bundle.mjs copies the file
 * beside the CLI bundle and names it in the `TSBUILD_CHART_JS` define (a file of its own, so that
 * the commands that draw no chart do not read its 213 KB with the bundle, issue 10), so the installed
 * CLI does not read node_modules at run time; unbundled code (tests importing src/) reads it from
 * the chart.js package.
 * Its trailing `sourceMappingURL` comment is dropped: the map is not in the page, and a browser's
 * developer tools would try to fetch it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The file beside the bundle holding chart.umd.js (set by scripts/bundle.mjs in the CLI bundle only). */
declare const TSBUILD_CHART_JS: string | undefined;

/** The library's source, ready to stand in a script element. */
export function chartJsSource(): string {
  const src = typeof TSBUILD_CHART_JS === 'string' ? readFileSync(join(dirname(fileURLToPath(import.meta.url)), TSBUILD_CHART_JS), 'utf8') : readChartJs();
  return src.replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '\n');
}

function readChartJs(): string {
  // The package's exports map names only its entry points: find the folder from the CommonJS one.
  const main = createRequire(import.meta.url).resolve('chart.js');
  return readFileSync(join(dirname(main), 'chart.umd.js'), 'utf8');
}
