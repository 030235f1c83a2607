/** `tsbuild cache check`: consistency of the data root, and `--repair` for what is safe to fix. */
import type { Command } from '../cli/command.js';
import { flagBool } from '../cli/args.js';
import type { CheckProblem } from '../../src/client/types.js';
import { assertNever } from '../../src/util/errors.js';
import { withClient } from './client.js';

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
    + 'A damaged metadata database is reported but never repaired. See docs/cache.md.',
  async run(ctx) {
    const deep = flagBool(ctx.args, 'deep');
    if (flagBool(ctx.args, 'repair')) {
      const r = await withClient(ctx, { readOnly: true }, (c) => c.repair({ deep }, { signal: ctx.signal }));
      for (const p of r.fixed) ctx.io.stdout.write(`fixed ${describeProblem(p)}\n`);
      for (const p of r.remaining) ctx.io.stdout.write(`remaining ${describeProblem(p)}\n`);
      ctx.io.stdout.write(r.remaining.length === 0
        ? `ok: ${r.fixed.length} problem${r.fixed.length === 1 ? '' : 's'} fixed\n`
        : `${r.remaining.length} problem${r.remaining.length === 1 ? '' : 's'} remain\n`);
      return r.remaining.length === 0 ? 0 : 1;
    }
    // Not read-only: opening the engine runs the crash recovery every start runs, so what a killed
    // process left behind is recovered (and listed) rather than reported as an inconsistency.
    const r = await withClient(ctx, {}, (c) => c.check({ deep }, { signal: ctx.signal }));
    for (const line of r.recovered) ctx.io.stdout.write(`recovered: ${line}\n`);
    for (const p of r.problems) ctx.io.stdout.write(`${describeProblem(p)}\n`);
    ctx.io.stdout.write(r.ok
      ? `ok: ${r.recordsChecked} records and ${r.blobsChecked} blobs checked, no problems\n`
      : `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} found (run "tsbuild cache check --repair" to fix them)\n`);
    return r.ok ? 0 : 1;
  },
};
