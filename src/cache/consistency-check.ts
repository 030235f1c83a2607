/**
 * check(): a consistency report of a data root, which changes nothing; repair(): fixes what is
 * safe to fix. Orphans (snapshots, blobs, ref rows, layer entries nothing reaches) come from the
 * same reachability walk garbage collection uses (reachability.ts). What counts as a problem and
 * how each is repaired is listed in docs/cache.md.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { assertNever, throwIfAborted } from '../util/errors.js';
import type { CacheParts } from './cache-parts.js';
import { isErrnoCode, removeQuietly } from './fs-durable.js';
import { collectGarbage, removeGarbageBlob, removeGarbageSnapshot } from './garbage.js';
import { walkReachability } from './reachability.js';
import { isProcessAlive, parseOwnerPrefix } from './process-identity.js';
import type { CheckOptions, CheckProblem, CheckReport, RepairReport, SignalOptions } from './types.js';

const DEFAULT_STALE_MS = 24 * 3600_000;

export async function checkConsistency(parts: CacheParts, opts: CheckOptions = {}): Promise<CheckReport> {
  return (await examine(parts, opts)).report;
}

/** The report, and the walk's youngSince (repair spares blobs claimed after it). */
async function examine(parts: CacheParts, opts: CheckOptions): Promise<{ report: CheckReport; young: number }> {
  throwIfAborted(opts.signal);
  const problems: CheckProblem[] = [];
  const staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_MS;

  // A damaged database is reported, and the checks that read it are skipped: they could only fail.
  let dbOk = true;
  try {
    const integrity = parts.db.integrityCheck();
    if (!(integrity.length === 1 && integrity[0] === 'ok')) {
      dbOk = false;
      for (const message of integrity) problems.push({ kind: 'db-integrity', message });
    }
  } catch (e) {
    dbOk = false;
    problems.push({ kind: 'db-integrity', message: (e as Error).message });
  }

  let recordsChecked = 0;
  let young = Infinity;
  if (dbOk) {
    recordsChecked = await checkRecords(parts, problems, opts);
    young = await checkOrphans(parts, problems, opts);
  }
  for (const path of await parts.inventory.leftovers(opts)) problems.push({ kind: 'snapshot-leftover', path });

  let blobsChecked = 0;
  for (const name of (await readdir(parts.paths.blobs)).sort()) {
    throwIfAborted(opts.signal);
    const path = join(parts.paths.blobs, name);
    if (!/^[0-9a-f]{64}$/.test(name)) {
      problems.push({ kind: 'bad-blob-name', path });
      continue;
    }
    blobsChecked++;
    if (!opts.deep) continue;
    const h = createHash('sha256');
    try {
      await pipeline(createReadStream(path, opts.signal ? { signal: opts.signal } : {}), h);
    } catch (e) {
      if (isErrnoCode(e, 'ENOENT')) continue; // deleted meanwhile
      throw e;
    }
    const actual = `sha256:${h.digest('hex')}`;
    if (actual !== `sha256:${name}`) problems.push({ kind: 'blob-digest-mismatch', digest: `sha256:${name}`, actual });
  }

  for (const path of await parts.content.orphanIngest({ staleAfterMs, ...(opts.signal ? { signal: opts.signal } : {}) })) {
    problems.push({ kind: 'orphan-ingest', path });
  }
  for (const path of await orphanTmp(parts, staleAfterMs, opts)) problems.push({ kind: 'orphan-tmp', path });
  return { report: { ok: problems.length === 0, problems, recordsChecked, blobsChecked }, young };
}

/** Orphans by the reachability walk, and operations whose process died. Returns the walk's youngSince. */
async function checkOrphans(parts: CacheParts, problems: CheckProblem[], opts: CheckOptions): Promise<number> {
  const reach = await walkReachability(parts, opts);
  for (const id of reach.garbageSnapshots) {
    let bytes = parts.refs.info(id)?.size;
    bytes ??= await parts.inventory.usage(id, opts).then((u) => u.bytes, () => 0);
    problems.push({ kind: 'orphan-snapshot', snapshotId: id, bytes });
  }
  for (const b of reach.garbageBlobs) problems.push({ kind: 'orphan-blob', digest: b.digest, size: b.size });
  for (const resultId of reach.orphanRefs) problems.push({ kind: 'orphan-ref', resultId });
  for (const e of reach.orphanLayerEntries) problems.push({ kind: 'orphan-layer-entry', snapshotId: e.snapshotId, blobDigest: e.blobDigest });
  for (const l of parts.leases.dead()) problems.push({ kind: 'dead-lease', id: l.id, label: l.label });
  return reach.youngSince;
}

/** The checks that read the database. Returns the number of records checked. */
async function checkRecords(parts: CacheParts, problems: CheckProblem[], opts: CheckOptions): Promise<number> {
  // Results a live prune is removing right now are in flux, not broken.
  const stale = new Set(parts.refs.staleTombstones());
  const tombstoned = new Set((parts.db.prepare('SELECT result_id FROM tombstones').all() as { result_id: string }[]).map((r) => r.result_id));
  const records = parts.records.list();
  const exists = new Map<string, boolean>();
  for (const r of records) {
    if (r.resultId === '' || (tombstoned.has(r.resultId) && !stale.has(r.resultId))) continue;
    let ok = exists.get(r.resultId);
    if (ok === undefined) {
      throwIfAborted(opts.signal);
      ok = await parts.inventory.exists(r.resultId, opts);
      exists.set(r.resultId, ok);
    }
    if (!ok) problems.push({ kind: 'missing-snapshot', key: r.key, output: r.output, resultId: r.resultId });
  }
  for (const d of parts.refs.deadHolders()) problems.push({ kind: 'dead-ref', resultId: d.resultId, holder: d.holder });
  for (const resultId of stale) problems.push({ kind: 'stale-tombstone', resultId });
  for (const name of parts.locks.stale()) problems.push({ kind: 'stale-lock', name });
  for (const e of parts.layerBlobs.list()) {
    if (!(await parts.content.has(e.blobDigest, opts))) problems.push({ kind: 'missing-layer-blob', snapshotId: e.snapshotId, blobDigest: e.blobDigest });
  }
  return records.length;
}

/** Entries of ROOT/tmp owned by dead processes, or (unowned or live) older than staleAfterMs. */
async function orphanTmp(parts: CacheParts, staleAfterMs: number, opts: SignalOptions): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(parts.paths.tmp)).sort();
  } catch (e) {
    if (isErrnoCode(e, 'ENOENT')) return [];
    throw e;
  }
  const now = parts.now();
  const out: string[] = [];
  for (const name of names) {
    throwIfAborted(opts.signal);
    const path = join(parts.paths.tmp, name);
    const owner = parseOwnerPrefix(name);
    if (owner && !isProcessAlive(owner)) {
      out.push(path);
      continue;
    }
    try {
      if (now - (await lstat(path)).mtimeMs > staleAfterMs) out.push(path);
    } catch (e) {
      if (!isErrnoCode(e, 'ENOENT')) throw e;
    }
  }
  return out;
}

/**
 * Fixes every problem check() finds except a damaged database: drops records of missing
 * snapshots, deletes corrupt or misnamed blobs, orphaned ingest/tmp entries, dead refs, stale locks
 * and layer-blob entries whose blob is gone, and finishes or rolls back interrupted prunes.
 */
export async function repairConsistency(parts: CacheParts, opts: CheckOptions = {}): Promise<RepairReport> {
  const { report, young } = await examine(parts, opts);
  return fixProblems(parts, report.problems, { ...opts, young });
}

/** Holds first, then what they held: orphans may only be seen once dead refs stop counting. */
const REPAIR_ORDER: readonly CheckProblem['kind'][] = ['dead-ref', 'stale-tombstone', 'dead-lease', 'snapshot-leftover', 'orphan-snapshot'];
function repairRank(p: CheckProblem): number {
  const i = REPAIR_ORDER.indexOf(p.kind);
  return i < 0 ? REPAIR_ORDER.length : i;
}

async function fixProblems(parts: CacheParts, found: readonly CheckProblem[], opts: SignalOptions & { readonly young: number }): Promise<RepairReport> {
  const fixed: CheckProblem[] = [];
  const remaining: CheckProblem[] = [];
  const s = parts.db;
  let deadRefsCleaned = false;
  let leftoversRemoved = false;
  const problems = [...found].map((p, i) => ({ p, i })).sort((a, b) => repairRank(a.p) - repairRank(b.p) || a.i - b.i).map((x) => x.p);
  for (const p of problems) {
    throwIfAborted(opts.signal);
    switch (p.kind) {
      case 'missing-snapshot':
        parts.db.write(() => s.prepare('DELETE FROM cache_records WHERE key = ? AND output = ? AND result_id = ?').run(p.key, p.output, p.resultId));
        break;
      case 'blob-digest-mismatch':
        await parts.content.delete(p.digest);
        break;
      case 'bad-blob-name':
      case 'orphan-ingest':
      case 'orphan-tmp':
        await removeQuietly(p.path);
        break;
      case 'dead-ref':
        if (!deadRefsCleaned) parts.refs.cleanupDead();
        deadRefsCleaned = true;
        break;
      case 'stale-tombstone': {
        // The prune died between tombstoning and deleting the records: if the snapshot is gone,
        // finish the job; if not, the removal never happened and the records stay valid.
        const gone = !(await parts.inventory.exists(p.resultId, opts));
        parts.db.write(() => {
          if (gone) s.prepare('DELETE FROM cache_records WHERE result_id = ?').run(p.resultId);
        });
        parts.refs.finishRemoval([p.resultId]);
        break;
      }
      case 'stale-lock':
        parts.locks.removeStale();
        break;
      case 'missing-layer-blob':
        parts.db.write(() => s.prepare('DELETE FROM layer_blobs WHERE snapshot_id = ? AND blob_digest = ?').run(p.snapshotId, p.blobDigest));
        break;
      case 'orphan-snapshot':
        if ((await removeGarbageSnapshot(parts, p.snapshotId)) === undefined && (await parts.inventory.exists(p.snapshotId, opts))) {
          remaining.push(p);
          continue;
        }
        break;
      case 'orphan-blob':
        // Claimed since the check (a running operation uses it now): not an orphan any more.
        if ((await removeGarbageBlob(parts, { youngSince: opts.young }, p.digest)) === undefined && (await parts.content.has(p.digest))) {
          remaining.push(p);
          continue;
        }
        break;
      case 'orphan-ref':
        parts.refs.deleteUnheld(p.resultId);
        break;
      case 'orphan-layer-entry':
        parts.db.write(() => s.prepare('DELETE FROM layer_blobs WHERE snapshot_id = ? AND blob_digest = ?').run(p.snapshotId, p.blobDigest));
        break;
      case 'snapshot-leftover':
        if (!leftoversRemoved) await parts.inventory.removeLeftovers(opts);
        leftoversRemoved = true;
        break;
      case 'dead-lease':
        parts.leases.removeDead(p.id);
        break;
      case 'db-integrity':
        remaining.push(p);
        continue;
      default:
        assertNever(p, 'check problem');
    }
    fixed.push(p);
  }
  return { fixed, remaining };
}


/**
 * What an engine runs when it starts: removes what dead processes left behind (ingest files, tmp
 * entries, refs, locks, half-done prunes, leases of interrupted operations) and nothing that a
 * live process could still own. When an operation died (a dead lease, ref or tombstone), the
 * garbage it may have left (snapshots it made but never recorded, blobs it never named) is
 * collected too; otherwise records and blobs are not examined, which keeps a start cheap.
 */
export async function cleanupOrphans(parts: CacheParts, opts: SignalOptions = {}): Promise<CheckProblem[]> {
  const found: CheckProblem[] = [];
  for (const l of parts.leases.dead()) found.push({ kind: 'dead-lease', id: l.id, label: l.label });
  for (const path of await parts.content.orphanIngest({ staleAfterMs: Infinity, ...(opts.signal ? { signal: opts.signal } : {}) })) {
    found.push({ kind: 'orphan-ingest', path });
  }
  for (const path of await orphanTmp(parts, Infinity, opts)) found.push({ kind: 'orphan-tmp', path });
  for (const d of parts.refs.deadHolders()) found.push({ kind: 'dead-ref', resultId: d.resultId, holder: d.holder });
  for (const resultId of parts.refs.staleTombstones()) found.push({ kind: 'stale-tombstone', resultId });
  for (const name of parts.locks.stale()) found.push({ kind: 'stale-lock', name });
  const fixed: CheckProblem[] = [...(await fixProblems(parts, found, { ...opts, young: -Infinity })).fixed];
  if (found.some((p) => p.kind === 'dead-lease' || p.kind === 'dead-ref' || p.kind === 'stale-tombstone')) {
    const g = await collectGarbage(parts, opts);
    for (const snapshotId of g.snapshotsRemoved) fixed.push({ kind: 'orphan-snapshot', snapshotId, bytes: 0 });
    for (const digest of g.blobsRemoved) fixed.push({ kind: 'orphan-blob', digest, size: 0 });
  }
  return fixed;
}
