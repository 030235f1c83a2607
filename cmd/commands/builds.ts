/**
 * `tsbuild builds`: the builds running in the daemon now (like `docker ps` for builds): ref, who
 * started it, what it builds, when it started and its steps so far. The ref is what `tsbuild attach`
 * takes. Embedded (no daemon) there is nothing to list: a build belongs to the process running it.
 */
import type { Command } from '../cli/command.js';
import { flagBool, flagString } from '../cli/args.js';
import type { RunningBuildSummary } from '../../src/client/types.js';
import { withClient } from './client.js';
import { since } from './human-units.js';
import { renderTable } from './table.js';

function what(b: RunningBuildSummary): string {
  const tags = b.tags.length > 0 ? b.tags.join(',') : b.dockerfile;
  return b.target ? `${tags} (target ${b.target})` : tags;
}

export const buildsCommand: Command = {
  name: 'builds',
  summary: 'List the builds running in the daemon',
  usage: '[OPTIONS]',
  maxArgs: 0,
  flags: [
    { name: 'quiet', short: 'q', kind: 'bool', description: 'only show refs' },
    { name: 'format', kind: 'string', placeholder: 'FORMAT', choices: ['table', 'json'], default: 'table', description: 'output format (json: one object per line)' },
  ],
  details: 'STEPS is finished/reported so far (a step is reported once the build reaches it); ATTACHED counts\n'
    + "the clients following the build with 'tsbuild attach REF'. Without a daemon the list is empty.",
  async run(ctx) {
    const rows = await withClient(ctx, { readOnly: true, noEngine: true }, (c) => c.listBuilds({ signal: ctx.signal }));
    if (flagBool(ctx.args, 'quiet')) {
      for (const b of rows) ctx.io.stdout.write(`${b.ref}\n`);
      return 0;
    }
    if (flagString(ctx.args, 'format') === 'json') {
      for (const b of rows) ctx.io.stdout.write(`${JSON.stringify(b)}\n`);
      return 0;
    }
    const now = Date.now();
    ctx.io.stdout.write(renderTable(
      ['REF', 'CLIENT', 'BUILDING', 'STARTED', 'STEPS', 'CACHED', 'ATTACHED'],
      rows.map((b) => [b.ref, b.client, what(b), since(b.startedMs, now), `${b.steps.done}/${b.steps.total}`, String(b.steps.cached), String(b.attached)]),
    ));
    return 0;
  },
};
