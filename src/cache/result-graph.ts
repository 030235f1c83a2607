/**
 * The shape of the stored results for du and prune: which snapshot sits on which (from the
 * snapshot inventory, falling back to parents recorded with refs), which records hold each result,
 * and each result's size.
 */
import { throwIfAborted } from '../util/errors.js';
import type { CacheRecord } from '../solver/cache-types.js';
import type { CacheParts } from './cache-parts.js';
import type { SignalOptions } from './types.js';

export interface ResultGraph {
  readonly records: readonly CacheRecord[];
  /** Result id → records holding it. */
  readonly holders: ReadonlyMap<string, readonly CacheRecord[]>;
  /** Snapshot id → parent (every known snapshot). */
  readonly parent: ReadonlyMap<string, string | undefined>;
  /** Snapshot id → its children. */
  readonly children: ReadonlyMap<string, readonly string[]>;
  /** Result id → bytes of its own data. */
  readonly size: ReadonlyMap<string, number>;
  /** Results with a live ref, and every ancestor of one. */
  readonly inUse: ReadonlySet<string>;
  /** Snapshots the inventory lists. */
  readonly existing: ReadonlySet<string>;
}

export function ancestors(parent: ReadonlyMap<string, string | undefined>, id: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>([id]);
  for (let p = parent.get(id); p !== undefined && !seen.has(p); p = parent.get(p)) {
    out.push(p);
    seen.add(p);
  }
  return out;
}

/** Reads records, snapshots and refs, and resolves unknown sizes through the inventory (persisted). */
export async function loadResultGraph(parts: CacheParts, opts: SignalOptions = {}): Promise<ResultGraph> {
  throwIfAborted(opts.signal);
  const snapshots = await parts.inventory.list(opts);
  const records = parts.records.list();
  const parent = new Map<string, string | undefined>();
  for (const s of snapshots) parent.set(s.id, s.parent);
  for (const r of parts.refs.list()) if (!parent.has(r.resultId) && r.parent !== undefined) parent.set(r.resultId, r.parent);
  const children = new Map<string, string[]>();
  for (const [id, p] of parent) {
    if (p === undefined) continue;
    const list = children.get(p) ?? [];
    list.push(id);
    children.set(p, list);
  }
  const holders = new Map<string, CacheRecord[]>();
  for (const r of records) {
    const list = holders.get(r.resultId) ?? [];
    list.push(r);
    holders.set(r.resultId, list);
  }
  const existing = new Set(snapshots.map((s) => s.id));
  const size = new Map<string, number>();
  for (const [id, recs] of holders) {
    const known = recs.find((r) => r.size !== undefined)?.size;
    if (known !== undefined || id === '') {
      size.set(id, known ?? 0);
      continue;
    }
    throwIfAborted(opts.signal);
    let bytes = 0;
    if (existing.has(id)) {
      bytes = (await parts.inventory.usage(id, opts)).bytes;
      parts.records.setSize(id, bytes);
    }
    size.set(id, bytes);
  }
  const inUse = new Set<string>();
  for (const id of parts.refs.referenced()) {
    inUse.add(id);
    for (const a of ancestors(parent, id)) inUse.add(a);
  }
  return { records, holders, parent, children, size, inUse, existing };
}
