/**
 * prune: deletes unreferenced cache records, least recently (then least often) used first, until
 * the limits hold; the garbage collection that follows (garbage.ts) removes what they held —
 * their snapshots, the unrecorded snapshots between them and what they sat on, their layer blobs.
 * Safe beside other processes: a record used since the scan is kept (another process's use once
 * that process has written it: lookups write their uses later, cache-record-store.ts), and the collection
 * tombstones a snapshot in the same transaction that checks nobody holds it, so a concurrent
 * acquire() fails instead of racing the removal. A result goes only after every recorded result
 * above it; a result something pinned (a live ref, a running build) sits on never goes.
 */
import type { CacheRecord } from '../solver/cache-types.js';
import { CancelledError, throwIfAborted } from '../util/errors.js';
import type { CacheParts } from './cache-parts.js';
import { collectAndWalk, collectGarbage } from './garbage.js';
import { loadResultGraph, type ResultGraph } from './result-graph.js';
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
  // Garbage first: it must not count as what the records' results are needed by.
  const before = await collectAndWalk(parts, opts);
  const pinned = before.reach.pinned;
  const g = await loadResultGraph(parts, opts);
  const now = parts.now();

  let total = 0;
  const eligible: Group[] = [];
  for (const [id, recs] of g.holders) {
    const size = g.size.get(id) ?? 0;
    if (recs.some((r) => matchesFilters(r, opts.filters))) total += size;
    const ok = !g.inUse.has(id) && !pinned.has(id) && recs.every((r) =>
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

  // Pick in LRU order, children first: a result with a recorded (or pinned) result above it that
  // stays cannot go (yet). Passes repeat while removing a child unblocks its parent.
  const chosen: Group[] = [];
  const leaving = new Set<string>();
  const limitHolds = (): boolean => opts.keepStorage !== undefined && total <= opts.keepStorage;
  for (let progress = true; progress && !limitHolds();) {
    progress = false;
    for (const grp of eligible) {
      if (limitHolds()) break;
      if (leaving.has(grp.id)) continue;
      if (keptAbove(g, pinned, grp.id).some((c) => !leaving.has(c))) continue;
      chosen.push(grp);
      leaving.add(grp.id);
      total -= grp.size;
      progress = true;
    }
  }

  const pruned: PrunedRecord[] = [];
  for (const grp of chosen) {
    if (opts.signal?.aborted) break;
    if (!deleteRecords(parts, grp)) continue;
    for (const r of grp.records) {
      pruned.push({ key: r.key, output: r.output, resultId: r.resultId, recordType: r.recordType, description: r.description, size: grp.size });
    }
  }
  // Not cancellable: the records are gone, so what they held is garbage now.
  const after = pruned.length > 0 ? await collectGarbage(parts) : { snapshotsRemoved: [], blobsRemoved: [], bytesFreed: 0 };
  // Everything removed so far is consistent; report the abort after finishing the bookkeeping.
  if (opts.signal?.aborted) throw new CancelledError(opts.signal.reason);
  return {
    records: pruned,
    snapshotsRemoved: [...before.report.snapshotsRemoved, ...after.snapshotsRemoved],
    blobsRemoved: [...before.report.blobsRemoved, ...after.blobsRemoved],
    bytesFreed: before.report.bytesFreed + after.bytesFreed,
  };
}

/** The nearest results above `id` that stay unless pruned: recorded or pinned ones (unrecorded ones in between go with `id`). */
function keptAbove(g: ResultGraph, pinned: ReadonlySet<string>, id: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const stack = [...(g.children.get(id) ?? [])];
  while (stack.length > 0) {
    const c = stack.pop() as string;
    if (seen.has(c)) continue;
    seen.add(c);
    if (g.holders.has(c) || pinned.has(c)) out.push(c);
    else stack.push(...(g.children.get(c) ?? []));
  }
  return out;
}

/** Deletes a group's records unless one was used or re-saved since the scan. */
function deleteRecords(parts: CacheParts, grp: Group): boolean {
  return parts.db.write(() => {
    const cur = parts.records.byResult(grp.id);
    if (cur.length !== grp.records.length) return false;
    for (const r of cur) {
      const then = grp.records.find((x) => x.key === r.key && x.output === r.output);
      if (!then || r.lastUsedAt > then.lastUsedAt) return false;
    }
    parts.db.prepare('DELETE FROM cache_records WHERE result_id = ?').run(grp.id);
    return true;
  });
}
