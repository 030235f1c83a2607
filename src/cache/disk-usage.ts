/**
 * du: what the cache holds, per record and in total. A result counts once however many records
 * hold it; "shared" results are held by several records or sit under another record's result.
 */
import type { CacheParts } from './cache-parts.js';
import { ancestors, loadResultGraph } from './result-graph.js';
import type { DiskUsage, DiskUsageRecord, DuOptions } from './types.js';

export async function diskUsage(parts: CacheParts, opts: DuOptions = {}): Promise<DiskUsage> {
  const g = await loadResultGraph(parts, opts);
  // Results that lie under another record's result (its ancestors) are shared with it.
  const underOthers = new Set<string>();
  for (const id of g.holders.keys()) for (const a of ancestors(g.parent, id)) underOthers.add(a);

  // A result is reclaimable unless in use or needed by a snapshot no record holds (for example an
  // active snapshot of a running build, or a kept image layer).
  const needed = new Set<string>();
  for (const id of g.existing) {
    if (g.holders.has(id)) continue;
    for (const a of ancestors(g.parent, id)) needed.add(a);
  }

  let totalBytes = 0;
  let sharedBytes = 0;
  let reclaimableBytes = 0;
  const records: DiskUsageRecord[] = [];
  for (const [id, recs] of g.holders) {
    const size = g.size.get(id) ?? 0;
    const shared = recs.length > 1 || underOthers.has(id);
    const inUse = g.inUse.has(id);
    totalBytes += size;
    if (shared) sharedBytes += size;
    if (!inUse && !needed.has(id)) reclaimableBytes += size;
    for (const r of recs) {
      records.push({
        key: r.key,
        output: r.output,
        resultId: r.resultId,
        recordType: r.recordType,
        description: r.description,
        size,
        createdAt: r.createdAt,
        lastUsedAt: r.lastUsedAt,
        useCount: r.useCount,
        inUse,
        shared,
        ...(opts.verbose ? { ...optionalParent(g.parent.get(id)), inputKeys: parts.records.inputKeys(r.key, r.output) } : {}),
      });
    }
  }
  records.sort((a, b) => b.size - a.size || a.lastUsedAt - b.lastUsedAt || a.key.localeCompare(b.key) || a.output - b.output);
  return {
    records,
    totalBytes,
    sharedBytes,
    privateBytes: totalBytes - sharedBytes,
    reclaimableBytes,
    contentBytes: await parts.content.totalBytes(opts),
  };
}

/** `{ parent }` when there is one: records leave absent fields out rather than set them undefined. */
function optionalParent(parent: string | undefined): { parent?: string } {
  return parent === undefined ? {} : { parent };
}
