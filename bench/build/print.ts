/** The build benchmark's tables: times with ratios, image sizes, re-push bytes, export. */
import { sumLayers } from '../lib/layers.js';
import { bytes, median, ratio, seconds, table } from '../lib/report.js';
import type { BuildOutcome } from '../lib/types.js';
import type { ExampleResult } from './examples.js';
import type { ExportResult } from './export.js';

const wall = (os: readonly BuildOutcome[]): number => median(os.map((o) => o.wallMs));

/** "0/13": the most steps any run executed, of the steps the tool reported. */
function stepsRun(os: readonly BuildOutcome[]): string {
  const ran = Math.max(...os.map((o) => o.steps - o.cachedSteps));
  return `${ran}/${os[0]?.steps ?? 0}`;
}

export function printExample(results: readonly ExampleResult[], say: (s: string) => void): void {
  const ours = results.find((r) => r.tool === 'tsbuild');
  if (ours === undefined) return;
  say('');
  say(`== examples/${ours.example}: wall time per build, process start included (median of ${ours.cold.length})`);
  say(table(
    ['tool', 'cold build', 'no-op rebuild', 'no-op steps run', 'package.json change', 'change steps run', 'export in change'],
    results.map((r) => [
      r.tool,
      seconds(wall(r.cold)),
      seconds(wall(r.noop)),
      stepsRun(r.noop),
      seconds(wall(r.change.map((c) => c.outcome))),
      stepsRun(r.change.map((c) => c.outcome)),
      seconds(median(r.change.map((c) => c.outcome.exportMs ?? Number.NaN))),
    ]),
  ));
  // tsbuild against every other row; an old build's tsbuild ("tsbuild (old)", --old) also against the other tools.
  const oldOnes = results.filter((r) => r.tool !== 'tsbuild' && r.tool.startsWith('tsbuild'));
  const pairs = [
    ...results.filter((r) => r !== ours).map((r) => [ours, r] as const),
    ...oldOnes.flatMap((o) => results.filter((r) => !r.tool.startsWith('tsbuild')).map((r) => [o, r] as const)),
  ];
  if (pairs.length > 0) {
    say('');
    say(table(
      ['ratio', 'cold build', 'no-op rebuild', 'package.json change'],
      pairs.map(([a, b]) => [
        `${a.tool} / ${b.tool}`,
        ratio(wall(a.cold), wall(b.cold)),
        ratio(wall(a.noop), wall(b.noop)),
        ratio(wall(a.change.map((c) => c.outcome)), wall(b.change.map((c) => c.outcome))),
      ]),
    ));
  }
}

/**
 * Image sizes and what a push re-uploads after the package.json change. Docker and Buildah keep
 * layers uncompressed and compress on push, so only tar bytes compare across tools; tsbuild's
 * gzip column is what it would actually send.
 */
export function printSizes(all: readonly ExampleResult[], say: (s: string) => void): void {
  say('');
  say('== image size, and what a push re-uploads after the package.json change (median over the change runs)');
  say(table(
    ['tool', 'example', 'layers', 'image (tar)', 'image (gzip)', 'changed layers', 're-push (tar)', 're-push (gzip)'],
    all.map((r) => {
      const size = sumLayers(r.image);
      const changed = r.change.map((c) => sumLayers(c.changed));
      return [
        r.tool,
        r.example,
        String(size.layers),
        bytes(size.tarBytes),
        bytes(size.blobBytes),
        String(median(changed.map((c) => c.layers))),
        bytes(median(changed.map((c) => c.tarBytes))),
        bytes(changed.some((c) => c.blobBytes === undefined) ? undefined : median(changed.map((c) => c.blobBytes ?? 0))),
      ];
    }),
  ));
}

export function printExport(results: readonly ExportResult[], layerBytes: number, kind: string, say: (s: string) => void): void {
  const ours = results.find((r) => r.label === 'tsbuild');
  const oursExport = ours && median(ours.runs.map((o) => o.exportMs ?? Number.NaN));
  say('');
  say(`== export of a ${bytes(layerBytes)} layer (${kind === 'random' ? 'random bytes' : 'copies of /bin/busybox'}), cold build; median of ${ours?.runs.length ?? 0}`);
  say(table(
    ['tool', 'export step', 'export range', 'export MiB/s', 'whole build', 'tsbuild / tool (export)'],
    results.map((r) => {
      const ex = r.runs.map((o) => o.exportMs ?? Number.NaN);
      const m = median(ex);
      return [
        r.label,
        seconds(m),
        `${seconds(Math.min(...ex))} – ${seconds(Math.max(...ex))}`,
        Number.isNaN(m) ? '-' : (layerBytes / 2 ** 20 / (m / 1000)).toFixed(0),
        seconds(median(r.runs.map((o) => o.wallMs))),
        r.label === 'tsbuild' || r.label.startsWith('tsbuild ') ? '' : ratio(oursExport, m),
      ];
    }),
  ));
}
