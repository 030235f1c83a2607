/**
 * The terminal rendering of `tsbuild compare` (CompareReport): one table of the variants' images
 * (cold build, layers, sizes, wasted bytes), one of the rebuilds (per scenario and variant: time,
 * steps cached, hit ratio, bytes to push and pull, the first miss reason — where the cache broke;
 * the steps after it miss because their parent did). Every miss reason is in the JSON.
 */
import type { CompareReport, CompareRun } from '../../src/report/compare-types.js';
import { formatSeconds } from '../../src/progress/format.js';
import { humanSize } from './human-units.js';
import { ellipsis, renderTable } from './table.js';

const ratio = (r: CompareRun): string => (r.hitRatio === null ? 'n/a' : `${(r.hitRatio * 100).toFixed(1)}%`);
const steps = (r: CompareRun): string => `${r.stepsCached}/${r.stepsTotal}`;

export function renderCompare(r: CompareReport): string {
  let out = `${r.variants.length} variants of ${r.context}, ${r.scenarios.length} change scenario(s)\n\n`;
  out += renderTable(['VARIANT', 'COLD BUILD', 'STEPS', 'LAYERS', 'IMAGE SIZE', 'UNCOMPRESSED', 'WASTED', 'DOCKERFILE'], r.variants.map((v) => [
    v.name, formatSeconds(v.cold.durationMs), String(v.cold.stepsTotal), String(v.layers.length), humanSize(v.imageSize), humanSize(v.uncompressedSize), humanSize(v.wastedBytes), v.dockerfile,
  ]));
  if (r.scenarios.length === 0) return out;
  out += '\n';
  const rows: string[][] = [];
  for (const [i, sc] of r.scenarios.entries()) {
    for (const v of r.variants) {
      const b = v.rebuilds[i];
      if (!b) continue;
      rows.push([
        `${sc.id} ${ellipsis(sc.description, 40)}`, v.name, formatSeconds(b.run.durationMs), steps(b.run), ratio(b.run), humanSize(b.pushBytes), humanSize(b.pullBytes),
        b.missReasons.length === 0 ? '-' : `${ellipsis(b.missReasons[0] ?? '', 60)}${b.missReasons.length > 1 ? ` (+${b.missReasons.length - 1} more)` : ''}`,
      ]);
    }
  }
  out += renderTable(['SCENARIO', 'VARIANT', 'REBUILD', 'CACHED', 'HIT RATIO', 'PUSH', 'PULL', 'FIRST MISS'], rows);
  return out;
}
