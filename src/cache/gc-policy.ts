/**
 * Automatic garbage collection, BuildKit-style: an ordered list of rules, each a prune with its own
 * filters and limits. The default keeps local-context and cache-mount records for 48 h within
 * 512 MB, then anything used in the last 60 days, then unshared records, then everything, each
 * within the storage budget: 10% of the data root's filesystem (2 GB when its size is unknown).
 */
import { statfs } from 'node:fs/promises';
import type { CacheParts } from './cache-parts.js';
import { matchesFilters, prune } from './prune.js';
import { loadResultGraph } from './result-graph.js';
import type { GcRule, PruneResult, SignalOptions } from './types.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
export const DEFAULT_GC_BYTES_FALLBACK = 2e9;

/** BuildKit's default rule set for a given storage budget. */
export function gcPolicyFor(keepStorage: number): GcRule[] {
  return [
    { filters: { type: ['source.local', 'exec.cachemount', 'source.git'] }, keepDuration: 48 * HOUR, keepStorage: Math.min(512e6, keepStorage) },
    { keepDuration: 60 * DAY, keepStorage },
    { keepStorage },
    { all: true, keepStorage },
  ];
}

/** 10% of the filesystem holding `dir`, or 2 GB when that cannot be read. */
export async function defaultGcBudget(dir: string): Promise<number> {
  try {
    const s = await statfs(dir);
    const bytes = Number(s.blocks) * Number(s.bsize);
    return bytes > 0 ? Math.floor(bytes / 10) : DEFAULT_GC_BYTES_FALLBACK;
  } catch {
    return DEFAULT_GC_BYTES_FALLBACK;
  }
}

export interface MaybeGcOptions extends SignalOptions {
  readonly policy: readonly GcRule[];
}

/**
 * Runs the policy when some rule's limit is exceeded (the bytes of the records its filters select
 * exceed its keepStorage). One GC at a time per data root: returns undefined when nothing needed
 * doing or another live process is collecting.
 */
export async function maybeGc(parts: CacheParts, opts: MaybeGcOptions): Promise<PruneResult | undefined> {
  const g = await loadResultGraph(parts, opts);
  const over = opts.policy.some((rule) => {
    let bytes = 0;
    for (const [id, recs] of g.holders) if (recs.some((r) => matchesFilters(r, rule.filters))) bytes += g.size.get(id) ?? 0;
    return bytes > rule.keepStorage;
  });
  if (!over) return undefined;
  const lock = parts.locks.tryAcquire('gc');
  if (!lock) return undefined;
  try {
    const all: PruneResult[] = [];
    for (const rule of opts.policy) {
      all.push(await prune(parts, {
        keepStorage: rule.keepStorage,
        ...(rule.all !== undefined ? { all: rule.all } : {}),
        ...(rule.filters ? { filters: rule.filters } : {}),
        ...(rule.keepDuration !== undefined ? { keepDuration: rule.keepDuration } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      }));
    }
    return {
      records: all.flatMap((r) => r.records),
      snapshotsRemoved: all.flatMap((r) => r.snapshotsRemoved),
      blobsRemoved: all.flatMap((r) => r.blobsRemoved),
      bytesFreed: all.reduce((n, r) => n + r.bytesFreed, 0),
    };
  } finally {
    lock.release();
  }
}
