/** `tsbuild du`: what the build cache holds (docker buildx du). */
import type { Command } from '../cli/command.js';
import { flagBool, flagString } from '../cli/args.js';
import type { DiskUsage, DiskUsageRecord } from '../../src/client/types.js';
import { assertNever } from '../../src/util/errors.js';
import { withClient } from './client.js';
import { humanSize, since } from './human-units.js';
import { ellipsis, renderTable } from './table.js';

type Format = 'table' | 'json';

/** The record's cache key as an ID: its digest hex (records of image layers are keyed `chain:…`). */
export function recordId(key: string): string {
  const m = /([0-9a-f]{64})$/.exec(key);
  return m?.[1] ?? key;
}

function verboseBlock(r: DiskUsageRecord, now: number): string {
  const rows: [string, string][] = [
    ['ID:', r.key],
    ['Output:', String(r.output)],
    ['Snapshot:', r.resultId === '' ? '(none)' : r.resultId],
    ...(r.parent ? [['Parent:', r.parent] as [string, string]] : []),
    ['Created at:', new Date(r.createdAt).toISOString()],
    ['Reclaimable:', String(!r.inUse)],
    ['In use:', String(r.inUse)],
    ['Shared:', String(r.shared)],
    ['Size:', humanSize(r.size)],
    ['Description:', r.description],
    ['Usage count:', String(r.useCount)],
    ['Last used:', since(r.lastUsedAt, now)],
    ['Type:', r.recordType],
    ...(r.inputKeys && r.inputKeys.length > 0 ? [['Inputs:', r.inputKeys.join(', ')] as [string, string]] : []),
  ];
  return `${rows.map(([k, v]) => `${k.padEnd(14)}${v}`).join('\n')}\n\n`;
}

function summary(du: DiskUsage): string {
  const d = du.disk;
  return [
    ['Shared:', du.sharedBytes],
    ['Private:', du.privateBytes],
    ['Reclaimable:', du.reclaimableBytes],
    ['Total:', du.totalBytes],
    ['Content store:', du.contentBytes],
  ].map(([k, v]) => `${String(k).padEnd(15)}${humanSize(v as number)}\n`).join('')
    + `${'Layer blobs:'.padEnd(15)}${humanSize(du.uncompressedLayerBytes)} uncompressed, ${humanSize(du.compressedLayerBytes)} compressed\n`
    + `${'Data root:'.padEnd(15)}${humanSize(d.total)} (snapshots ${humanSize(d.snapshots)}, content ${humanSize(d.content)}, `
    + `metadata ${humanSize(d.metadata)}, other ${humanSize(d.other)})\n`;
}

export const duCommand: Command = {
  name: 'du',
  summary: 'Show disk usage of the build cache, like docker buildx du',
  usage: '[OPTIONS]',
  maxArgs: 0,
  flags: [
    { name: 'verbose', short: 'v', kind: 'bool', description: 'show every field of every record' },
    { name: 'format', kind: 'string', placeholder: 'FORMAT', choices: ['table', 'json'], default: 'table', description: 'output format' },
  ],
  details: 'One row per cache record, largest first; "*" marks records whose data is shared with another\n'
    + 'record. RECLAIMABLE is false while a running build holds the record. The totals count every\n'
    + 'snapshot once; "Content store" is the size of all blobs (layers, configs, manifests), of which\n'
    + '"Layer blobs" are layers stored uncompressed (as builds keep them) and compressed (made when\n'
    + 'they were pushed or exported, kept for the next time; or pulled). "Data root"\n'
    + 'is everything on disk under the data root, as du(1) counts it (allocated bytes), by place.',
  async run(ctx) {
    const verbose = flagBool(ctx.args, 'verbose');
    const du = await withClient(ctx, { readOnly: true }, (c) => c.diskUsage({ verbose }, { signal: ctx.signal }));
    const format = (flagString(ctx.args, 'format') ?? 'table') as Format;
    const now = Date.now();
    switch (format) {
      case 'json':
        ctx.io.stdout.write(`${JSON.stringify(du, null, 2)}\n`);
        return 0;
      case 'table':
        if (verbose) {
          for (const r of du.records) ctx.io.stdout.write(verboseBlock(r, now));
        } else if (du.records.length > 0) {
          ctx.io.stdout.write(renderTable(['ID', 'RECLAIMABLE', 'SIZE', 'LAST ACCESSED', 'DESCRIPTION'], du.records.map((r) => [
            `${recordId(r.key).slice(0, 25)}${r.shared ? '*' : ''}`, String(!r.inUse), humanSize(r.size), since(r.lastUsedAt, now), ellipsis(r.description, 60),
          ])));
          ctx.io.stdout.write('\n');
        }
        ctx.io.stdout.write(summary(du));
        return 0;
      default:
        return assertNever(format, 'format');
    }
  },
};
