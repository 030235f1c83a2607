/**
 * `tsbuild history IMAGE`: the layers and history of an image, as `docker history` shows them.
 * `tsbuild history --why [BUILD]`: a past build's steps and why each executed one missed the cache.
 */
import type { Command, CommandContext } from '../cli/command.js';
import { flagBool, flagString } from '../cli/args.js';
import type { HistoryRow } from '../../src/client/types.js';
import { assertNever, UsageError, UserInputError } from '../../src/util/errors.js';
import { withClient } from './client.js';
import { renderWhy } from './history-why.js';
import { dockerTimestamp, humanSize, since } from './human-units.js';
import { ellipsis, renderTable } from './table.js';

type Format = 'table' | 'json';

/** docker truncates CREATED BY to this many characters. */
const CREATED_BY_WIDTH = 45;

interface Shown {
  readonly id: string;
  readonly created: string;
  readonly createdBy: string;
  readonly size: string;
}

function show(r: HistoryRow, o: { noTrunc: boolean; human: boolean; now: number }): Shown {
  const createdBy = r.createdBy.replace(/\t/g, ' ');
  return {
    id: r.id === '<missing>' || o.noTrunc ? r.id : r.id.replace(/^sha256:/, '').slice(0, 12),
    created: o.human ? since(r.created, o.now) : (r.created ?? ''),
    createdBy: o.noTrunc ? createdBy : ellipsis(createdBy, CREATED_BY_WIDTH),
    size: o.human ? humanSize(r.size) : String(r.size),
  };
}

export const historyCommand: Command = {
  name: 'history',
  aliases: ['image history'],
  summary: 'Show the history of an image, like docker history',
  usage: '[OPTIONS] IMAGE | --why [BUILD]',
  minArgs: 0,
  maxArgs: 1,
  flags: [
    { name: 'why', kind: 'bool', description: 'show a past build (default: the newest) and why each executed step missed the cache' },
    { name: 'no-trunc', kind: 'bool', description: 'do not truncate IDs or CREATED BY' },
    { name: 'human', short: 'H', kind: 'bool', description: 'print sizes and dates in human readable form; --human=false for bytes and RFC 3339 (default true)' },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'only show image IDs' },
    { name: 'format', kind: 'string', placeholder: 'FORMAT', choices: ['table', 'json'], default: 'table', description: 'output format (json: one object per line, as docker --format json)' },
  ],
  details: 'Newest first. SIZE is the uncompressed file content of the step\'s layer (0B for steps that\n'
    + 'changed no files). Rows below the top show <missing>: their intermediate images are not stored.',
  async run(ctx) {
    if (flagBool(ctx.args, 'why')) return runWhy(ctx);
    const image = ctx.args.positionals[0];
    if (image === undefined) throw new UsageError(`"tsbuild history" requires exactly 1 argument (an IMAGE), or --why for past builds; usage: tsbuild history ${historyCommand.usage}`);
    const rows = await withClient(ctx, { readOnly: true }, (c) => c.history({ name: image }, { signal: ctx.signal }));
    const o = { noTrunc: flagBool(ctx.args, 'no-trunc'), human: ctx.args.flags.get('human') !== false, now: Date.now() };
    if (flagBool(ctx.args, 'quiet')) {
      for (const r of rows) ctx.io.stdout.write(`${show(r, o).id}\n`);
      return 0;
    }
    const format = (flagString(ctx.args, 'format') ?? 'table') as Format;
    switch (format) {
      case 'json':
        for (const r of rows) {
          const s = show(r, o);
          ctx.io.stdout.write(`${JSON.stringify({ Comment: r.comment, CreatedAt: o.human ? dockerTimestamp(r.created) : (r.created ?? ''), CreatedBy: s.createdBy, CreatedSince: since(r.created, o.now), ID: s.id, Size: s.size })}\n`);
        }
        return 0;
      case 'table':
        ctx.io.stdout.write(renderTable(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows.map((r) => {
          const s = show(r, o);
          return [s.id, s.created, s.createdBy, s.size, r.comment];
        })));
        return 0;
      default:
        return assertNever(format, 'format');
    }
  },
};

async function runWhy(ctx: CommandContext): Promise<number> {
  const buildId = ctx.args.positionals[0];
  const builds = await withClient(ctx, { readOnly: true }, (c) => c.buildHistory(buildId !== undefined ? { buildId } : { limit: 1 }, { signal: ctx.signal }));
  const b = builds[0];
  if (!b) throw new UserInputError('NO_BUILD_HISTORY', 'no builds in the history yet');
  if (flagString(ctx.args, 'format') === 'json') ctx.io.stdout.write(`${JSON.stringify(b)}\n`);
  else ctx.io.stdout.write(renderWhy(b));
  return 0;
}
