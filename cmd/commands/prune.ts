/** `tsbuild prune`: remove build cache (docker buildx prune / docker builder prune). */
import type { Command, CommandContext } from '../cli/command.js';
import { flagBool, flagList, flagString } from '../cli/args.js';
import { RECORD_TYPES, type PruneRequest, type RecordType } from '../../src/client/types.js';
import { UsageError } from '../../src/util/errors.js';
import { didYouMean } from '../../src/util/did-you-mean.js';
import { withClient } from './client.js';
import { humanSize, parseDuration, parseSize } from './human-units.js';

const FILTER_KEYS = ['type', 'description', 'until'] as const;

interface Filters {
  readonly types: RecordType[];
  description: string | undefined;
  until: number | undefined;
}

function parseFilters(list: readonly string[]): Filters {
  const f: Filters = { types: [], description: undefined, until: undefined };
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid value "${item}" for --filter: expected KEY=VALUE (keys: ${FILTER_KEYS.join(', ')})`);
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    switch (key) {
      case 'type':
        if (!(RECORD_TYPES as readonly string[]).includes(value)) {
          throw new UsageError(`invalid filter type "${value}"${didYouMean(value, RECORD_TYPES)}: expected one of ${RECORD_TYPES.join(', ')}`);
        }
        f.types.push(value as RecordType);
        break;
      case 'description':
        f.description = value;
        break;
      case 'until':
        f.until = parseDuration(value, 'filter until');
        break;
      default:
        throw new UsageError(`invalid filter "${key}"${didYouMean(key, FILTER_KEYS)}: expected one of ${FILTER_KEYS.join(', ')}`);
    }
  }
  return f;
}

/** Reads one answer line from stdin; end of input counts as "no". */
async function confirm(ctx: CommandContext, question: string): Promise<boolean> {
  ctx.io.stdout.write(`${question} [y/N] `);
  let line = '';
  for await (const chunk of ctx.io.stdin) {
    line += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    if (line.includes('\n')) break;
  }
  return /^\s*y(es)?\s*$/i.test(line.split('\n')[0] ?? '');
}

export const pruneCommand: Command = {
  name: 'prune',
  summary: 'Remove build cache, like docker buildx prune',
  usage: '[OPTIONS]',
  maxArgs: 0,
  flags: [
    { name: 'all', short: 'a', kind: 'bool', description: 'also remove internal records (base image layers included)' },
    { name: 'keep-storage', kind: 'string', placeholder: 'SIZE', description: 'keep this much cache, e.g. 2GB, 500MiB (binary units)' },
    { name: 'keep-duration', kind: 'string', placeholder: 'DURATION', description: 'keep records used within this long, e.g. 24h, 30m, 7d' },
    { name: 'filter', kind: 'list', placeholder: 'KEY=VALUE', description: 'only records matching: type=TYPE, description=TEXT, until=DURATION' },
    { name: 'force', short: 'f', kind: 'bool', description: 'do not ask for confirmation' },
  ],
  details: `Record types for --filter type=: ${RECORD_TYPES.join(', ')}.\n`
    + 'Least recently used records go first. Images in the store keep their blobs; their unpacked layers\n'
    + 'are cache and are unpacked again by the next build that needs them.',
  async run(ctx) {
    const all = flagBool(ctx.args, 'all');
    const ks = flagString(ctx.args, 'keep-storage');
    const kd = flagString(ctx.args, 'keep-duration');
    const filters = parseFilters(flagList(ctx.args, 'filter'));
    const keepDuration = kd !== undefined ? parseDuration(kd, 'keep-duration') : filters.until;
    const req: PruneRequest = {
      all,
      ...(ks !== undefined ? { keepStorage: parseSize(ks, 'keep-storage') } : {}),
      ...(keepDuration !== undefined ? { keepDuration } : {}),
      ...(filters.types.length > 0 || filters.description !== undefined
        ? { filters: { ...(filters.types.length > 0 ? { type: filters.types } : {}), ...(filters.description !== undefined ? { description: filters.description } : {}) } }
        : {}),
    };
    if (!flagBool(ctx.args, 'force')) {
      const what = all ? 'WARNING! This will remove all build cache.' : 'WARNING! This will remove all dangling build cache.';
      if (!(await confirm(ctx, `${what} Are you sure you want to continue?`))) return 0;
    }
    const r = await withClient(ctx, { readOnly: true }, (c) => c.prune(req, { signal: ctx.signal }));
    if (r.records.length > 0) {
      ctx.io.stdout.write('Deleted build cache objects:\n');
      for (const rec of r.records) ctx.io.stdout.write(`${rec.key}\t${rec.description}\n`);
      ctx.io.stdout.write('\n');
    }
    ctx.io.stdout.write(`Total reclaimed space: ${humanSize(r.bytesFreed)}\n`);
    return 0;
  },
};
