/** `tsbuild cache check`: consistency of the data root, and `--repair` for what is safe to fix. */
import type { Command } from '../cli/command.js';
import { flagBool } from '../cli/args.js';
import type { CheckProblem } from '../../src/client/types.js';
import { assertNever } from '../../src/util/errors.js';
import { withClient } from './client.js';
import { humanSize } from './human-units.js';

/** One line per problem. */
export function describeProblem(p: CheckProblem): string {
  switch (p.kind) {
    case 'missing-snapshot':
      return `missing-snapshot: cache record ${p.key} (output ${p.output}) points at snapshot ${p.resultId}, which does not exist`;
    case 'blob-digest-mismatch':
      return `blob-digest-mismatch: blob ${p.digest} is corrupt: its content hashes to ${p.actual}`;
    case 'bad-blob-name':
      return `bad-blob-name: ${p.path} is not named by a sha256 digest`;
    case 'orphan-ingest':
      return `orphan-ingest: unfinished blob write ${p.path} of a process that is gone`;
    case 'orphan-tmp':
      return `orphan-tmp: scratch ${p.path} of a process that is gone`;
    case 'dead-ref':
      return `dead-ref: snapshot ${p.resultId} is held by ${p.holder}, a process that is gone`;
    case 'stale-tombstone':
      return `stale-tombstone: an interrupted prune left snapshot ${p.resultId} half removed`;
    case 'stale-lock':
      return `stale-lock: lock ${p.name} is held by a process that is gone`;
    case 'missing-layer-blob':
      return `missing-layer-blob: snapshot ${p.snapshotId} was exported as blob ${p.blobDigest}, which is gone`;
    case 'orphan-snapshot':
      return `orphan-snapshot: snapshot ${p.snapshotId} (${humanSize(p.bytes)}) is held by no cache record, ref or image and no snapshot sits on it`;
    case 'orphan-blob':
      return `orphan-blob: blob ${p.digest} (${humanSize(p.size)}) is reachable from no image and no kept snapshot`;
    case 'orphan-ref':
      return `orphan-ref: ref of snapshot ${p.resultId}, which no longer exists`;
    case 'orphan-layer-entry':
      return `orphan-layer-entry: layer blob ${p.blobDigest} is recorded for snapshot ${p.snapshotId}, which no longer exists`;
    case 'snapshot-leftover':
      return `snapshot-leftover: ${p.path} is left over (by a process that is gone, or from a snapshot deleted by hand)`;
    case 'dead-lease':
      return `dead-lease: operation ${p.label} (${p.id}) was interrupted: its process is gone`;
    case 'db-integrity':
      return `db-integrity: the metadata database is damaged: ${p.message}`;
    default:
      return assertNever(p, 'check problem');
  }
}

export const cacheCheckCommand: Command = {
  name: 'cache check',
  summary: 'Check the cache and data root for inconsistencies (and --repair them)',
  usage: '[OPTIONS]',
  maxArgs: 0,
  flags: [
    { name: 'repair', kind: 'bool', description: 'fix what is safe to fix (drop records of missing snapshots, remove orphans, ...)' },
    { name: 'deep', kind: 'bool', description: 'also re-hash every blob and compare it with its name' },
  ],
  details: 'Exits 0 when the data root is consistent (or --repair fixed everything), 1 when problems remain.\n'
    + 'Without --repair nothing is changed: orphans (snapshots, blobs, refs, layer entries nothing needs) and\n'
    + 'what crashed processes left are reported. A damaged metadata database is reported but never repaired.\n'
    + 'See docs/cache.md.',
  async run(ctx) {
    const deep = flagBool(ctx.args, 'deep');
    if (flagBool(ctx.args, 'repair')) {
      // Opening the engine first runs the recovery every start runs (listed as recovered).
      const r = await withClient(ctx, { readOnly: true }, (c) => c.repair({ deep }, { signal: ctx.signal }));
      for (const line of r.recovered) ctx.io.stdout.write(`recovered: ${line}\n`);
      for (const p of r.fixed) ctx.io.stdout.write(`fixed ${describeProblem(p)}\n`);
      for (const p of r.remaining) ctx.io.stdout.write(`remaining ${describeProblem(p)}\n`);
      ctx.io.stdout.write(r.remaining.length === 0
        ? `ok: ${r.fixed.length} problem${r.fixed.length === 1 ? '' : 's'} fixed\n`
        : `${r.remaining.length} problem${r.remaining.length === 1 ? '' : 's'} remain\n`);
      return r.remaining.length === 0 ? 0 : 1;
    }
    // A check changes nothing: no recovery at start, so what a killed process left is reported.
    const r = await withClient(ctx, { readOnly: true, recover: false }, (c) => c.check({ deep }, { signal: ctx.signal }));
    for (const line of r.recovered) ctx.io.stdout.write(`recovered: ${line}\n`);
    for (const p of r.problems) ctx.io.stdout.write(`${describeProblem(p)}\n`);
    ctx.io.stdout.write(r.ok
      ? `ok: ${r.recordsChecked} records and ${r.blobsChecked} blobs checked, no problems\n`
      : `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} found (run "tsbuild cache check --repair" to fix them)\n`);
    return r.ok ? 0 : 1;
  },
};
