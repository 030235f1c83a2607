/**
 * `tsbuild report [BUILD|--last] [--format table|json|html] [-o FILE]`: what a past build's layering
 * cost and saved — each step cached or executed (and why), the time-weighted cache-hit ratio, the
 * image's layer sizes and the bytes later layers hide (wasted), from the build history. `html` is one
 * self-contained page with charts (src/report/html). See docs/report.md.
 */
import type { Command } from '../cli/command.js';
import { flagBool, flagString } from '../cli/args.js';
import { assertNever, errorMessage, UsageError, UserInputError } from '../../src/util/errors.js';
import { formatSeconds } from '../../src/progress/format.js';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { withClient } from './client.js';
import { buildReport, type BuildReport } from '../../src/report/build-report.js';
import { humanSize } from './human-units.js';
import { ellipsis, renderTable } from './table.js';

type Format = 'table' | 'json' | 'html';

/** Builds read for the cold durations of cached steps: as many as the history keeps by default. */
const HISTORY_SCAN = 1000;

export const reportCommand: Command = {
  name: 'report',
  summary: 'Show a past build\'s cache hits, time saved, layer sizes and wasted bytes',
  usage: '[OPTIONS] [BUILD]',
  maxArgs: 1,
  flags: [
    { name: 'last', kind: 'bool', description: 'report the newest build (the default)' },
    { name: 'format', kind: 'string', placeholder: 'FORMAT', default: 'table', choices: ['table', 'json', 'html'], description: 'output format' },
    { name: 'output', short: 'o', kind: 'string', placeholder: 'FILE', description: 'write the report to FILE instead of standard output' },
  ],
  details: 'BUILD is an id from `tsbuild history --why` or --metadata-file. Wasted bytes are bytes of a layer\n'
    + 'that a later layer replaces or deletes: they ship with the image but are never seen.\n'
    + '--format html writes one self-contained page with charts (it fetches nothing; see docs/report.md).',
  async run(ctx) {
    const buildId = ctx.args.positionals[0];
    if (buildId !== undefined && flagBool(ctx.args, 'last')) throw new UsageError('report: give either BUILD or --last, not both');
    const { build, history } = await withClient(ctx, { readOnly: true }, async (c) => {
      const history = await c.buildHistory({ limit: HISTORY_SCAN }, { signal: ctx.signal });
      const build = buildId !== undefined ? (await c.buildHistory({ buildId }, { signal: ctx.signal }))[0] : history[0];
      return { build, history };
    });
    if (!build) throw new UserInputError('NO_BUILD_HISTORY', 'no builds in the history yet');
    const report = buildReport(build, history);
    const format = (flagString(ctx.args, 'format') ?? 'table') as Format;
    const text = await renderAs(report, format);
    const output = flagString(ctx.args, 'output');
    if (output === undefined || output === '-') ctx.io.stdout.write(text);
    else await writeOutput(resolve(ctx.io.cwd, output), text);
    return 0;
  },
};

/** The page renderer (and the Chart.js it embeds) loads only when asked for: its own bundle chunk. */
async function renderAs(report: BuildReport, format: Format): Promise<string> {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'table':
      return renderReport(report);
    case 'html':
      return (await import('../../src/report/html/report-html.js')).renderReportHtml(report);
    default:
      return assertNever(format, 'format');
  }
}

async function writeOutput(file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text);
  } catch (err) {
    throw new UserInputError('REPORT_OUTPUT', `cannot write the report to ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

const seconds = (ms: number | null): string => (ms === null ? '?' : formatSeconds(ms));

export function renderReport(r: BuildReport): string {
  const dur = r.durationMs !== null ? ` in ${formatSeconds(r.durationMs)}` : '';
  let out = `build ${r.buildId} (${r.description}) ${r.status}${dur}: ${r.stepsTotal} steps, ${r.stepsCached} cached, ${r.stepsExecuted} executed\n\n`;
  out += renderTable(['STEP', 'RESULT', 'TIME', 'COLD', 'LAYER', 'WHY'], r.steps.map((s) => [
    ellipsis(s.instruction, 50), s.outcome, seconds(s.durationMs), seconds(s.coldMs), s.layerSize === null ? '-' : humanSize(s.layerSize), s.why ?? '',
  ]));
  const h = r.hitRatio;
  const pct = h.ratio === null ? 'n/a' : `${(h.ratio * 100).toFixed(1)}%`;
  out += `\ntime-weighted hit ratio: ${pct} (${formatSeconds(h.timeSavedMs)} saved of ${formatSeconds(h.coldMs)} cold`;
  out += h.coldUnknown > 0 ? `; ${h.coldUnknown} step(s) never seen executing)\n` : ')\n';
  if (r.layers === null || r.imageSize === null || r.wastedBytes === null) {
    out += 'layers: not recorded for this build\n';
  } else {
    out += `image size: ${humanSize(r.imageSize)} (${r.imageSize} bytes) in ${r.layers.length} layers; wasted: ${humanSize(r.wastedBytes)} (${r.wastedBytes} bytes)\n\n`;
    out += renderTable(['LAYER', 'SIZE', 'FILES', 'WASTED'], r.layers.map((l) => [String(l.index), humanSize(l.size), String(l.files), humanSize(l.wastedBytes)]));
  }
  if (r.missReasons.length > 0) out += `\nmiss reasons:\n${r.missReasons.map((m) => `  ${m}\n`).join('')}`;
  return out;
}
