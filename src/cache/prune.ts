/**
 * prune: deletes unreferenced cache records, least recently (then least often) used first, until
 * the limits hold, and removes the results they held through the snapshot inventory; then collects
 * the garbage that leaves (garbage.ts: unreachable snapshots and blobs). Safe beside other
 * processes: a result is tombstoned in the same transaction that checks nobody holds it, so a
 * concurrent acquire() fails instead of racing the removal; a record used since the scan is kept.
 * Children are always removed before their parents; a result that some kept snapshot sits on is
 * never removed.
 */
import type { CacheRecord } from '../solver/cache-types.js';
import { CancelledError, throwIfAborted } from '../util/errors.js';
import type { CacheParts } from './cache-parts.js';
import { collectGarbage } from './garbage.js';
import { ancestors, loadResultGraph } from './result-graph.js';
import type { PrunedRecord, PruneFilters, PruneOptions, PruneResult } from './types.js';

export function matchesFilters(r: CacheRecord, f: PruneFilters | undefined): boolean {
  if (!f) return true;
  if (f.type && !f.type.includes(r.recordType)) return false;
  if (f.description !== undefined && !r.description.includes(f.description)) return false;
  return true;
}

interface Group {
  readonly id: string;
  readonly records: readonly CacheRecord[];
  readonly size: number;
  readonly lastUsedAt: number;
  readonly useCount: number;
}

export async function prune(parts: CacheParts, opts: PruneOptions = {}): Promise<PruneResult> {
  throwIfAborted(opts.signal);
  // Garbage first: an unrecorded snapshot left on a record's result would keep it as "needed".
  const before = await collectGarbage(parts, opts);
  const g = await loadResultGraph(parts, opts);
  const now = parts.now();
  const needed = new Set<string>();
  for (const id of g.existing) {
    if (g.holders.has(id)) continue;
    for (const a of ancestors(g.parent, id)) needed.add(a);
  }

  let total = 0;
  const eligible: Group[] = [];
  for (const [id, recs] of g.holders) {
    const size = g.size.get(id) ?? 0;
    if (recs.some((r) => matchesFilters(r, opts.filters))) total += size;
    const ok = !g.inUse.has(id) && !needed.has(id) && recs.every((r) =>
      matchesFilters(r, opts.filters)
      && (opts.all === true || (r.recordType !== 'internal' && r.recordType !== 'frontend'))
      && (opts.keepDuration === undefined || r.lastUsedAt < now - opts.keepDuration));
    if (!ok) continue;
    eligible.push({
      id,
      records: recs,
      size,
      lastUsedAt: Math.max(...recs.map((r) => r.lastUsedAt)),
      useCount: recs.reduce((n, r) => n + r.useCount, 0),
    });
  }
  eligible.sort((a, b) => a.lastUsedAt - b.lastUsedAt || a.useCount - b.useCount || b.size - a.size || a.id.localeCompare(b.id));

  // Pick in LRU order, children first: a result whose child stays cannot go (yet). Passes repeat
  // while removing a child unblocks its parent.
  const chosen: Group[] = [];
  const leaving = new Set<string>();
  const limitHolds = (): boolean => opts.keepStorage !== undefined && total <= opts.keepStorage;
  for (let progress = true; progress && !limitHolds();) {
    progress = false;
    for (const grp of eligible) {
      if (limitHolds()) break;
      if (leaving.has(grp.id)) continue;
      if ((g.children.get(grp.id) ?? []).some((c) => !leaving.has(c))) continue;
      chosen.push(grp);
      leaving.add(grp.id);
      total -= grp.size;
      progress = true;
    }
  }

  const pruned: PrunedRecord[] = [];
  const snapshotsRemoved: string[] = [...before.snapshotsRemoved];
  let bytesFreed = before.bytesFreed;
  for (const grp of chosen) {
    if (opts.signal?.aborted) break;
    if (!(await removeGroup(parts, grp))) continue;
    if (grp.id !== '') snapshotsRemoved.push(grp.id);
    bytesFreed += grp.size;
    for (const r of grp.records) {
      pruned.push({ key: r.key, output: r.output, resultId: r.resultId, recordType: r.recordType, description: r.description, size: grp.size });
    }
  }
  // Everything removed so far is consistent; report the abort after finishing the bookkeeping.
  if (opts.signal?.aborted) throw new CancelledError(opts.signal.reason);
  // What the removed results left: their layer blobs, snapshots only they sat on.
  const after = chosen.length > 0 ? await collectGarbage(parts, opts) : { snapshotsRemoved: [], blobsRemoved: [], bytesFreed: 0 };
  snapshotsRemoved.push(...after.snapshotsRemoved);
  return { records: pruned, snapshotsRemoved, blobsRemoved: [...before.blobsRemoved, ...after.blobsRemoved], bytesFreed: bytesFreed + after.bytesFreed };
}

/** Tombstone → remove the snapshot → delete the records. False when the group was skipped. */
async function removeGroup(parts: CacheParts, grp: Group): Promise<boolean> {
  const s = parts.db.sqlite;
  const claimed = parts.db.write(() => {
    const cur = parts.records.byResult(grp.id);
    // Used or re-saved since the scan: someone wants it.
    if (cur.length !== grp.records.length) return false;
    for (const r of cur) {
      const then = grp.records.find((x) => x.key === r.key && x.output === r.output);
      if (!then || r.lastUsedAt > then.lastUsedAt) return false;
    }
    return grp.id === '' || parts.refs.tombstoneIfUnheld(grp.id);
  });
  if (!claimed) return false;
  if (grp.id !== '') {
    try {
      // Not cancellable on purpose: a removal stopped halfway helps nobody.
      await parts.inventory.remove(grp.id);
    } catch {
      // e.g. a child appeared meanwhile: keep the records, release the claim.
      parts.refs.finishRemoval([grp.id]);
      return false;
    }
  }
  parts.db.write(() => {
    s.prepare('DELETE FROM cache_records WHERE result_id = ?').run(grp.id);
  });
  if (grp.id !== '') {
    parts.layerBlobs.deleteSnapshot(grp.id);
    parts.refs.finishRemoval([grp.id]);
  }
  return true;
}
