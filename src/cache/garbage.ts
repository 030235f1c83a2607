/**
 * Garbage collection: removes what the reachability walk (reachability.ts) finds nobody needs —
 * snapshots (children first), their layer-blob entries and ref rows, ref rows and layer entries of
 * snapshots that are gone, and unreachable blobs. Run at the end of every operation that may leave
 * garbage (a build whose result lost a race or was replaced by --no-cache, rmi, a moved tag, a
 * failed load or pull), by prune, by recovery after a crash, and by `cache check --repair`.
 *
 * Safe beside other processes: a snapshot is tombstoned in the same transaction that checks that
 * no record and no live ref holds it (acquire() refuses tombstoned results); a blob is moved aside
 * and deleted only if nobody claimed it meanwhile (ContentStore.collect); whatever a running
 * operation made or claimed since it began is young and stays.
 */
import { throwIfAborted } from '../util/errors.js';
import type { CacheParts } from './cache-parts.js';
import { walkReachability, youngSince, type Reachability } from './reachability.js';
import type { SignalOptions } from './types.js';

export interface GarbageReport {
  readonly snapshotsRemoved: readonly string[];
  readonly blobsRemoved: readonly string[];
  /** Ref rows and layer-blob entries of snapshots that were already gone. */
  readonly rowsRemoved: number;
  readonly bytesFreed: number;
}

export async function collectGarbage(parts: CacheParts, opts: SignalOptions = {}): Promise<GarbageReport> {
  return (await collectAndWalk(parts, opts)).report;
}

/** collectGarbage, also returning the walk it went by (prune needs what is pinned). */
export async function collectAndWalk(parts: CacheParts, opts: SignalOptions = {}): Promise<{ report: GarbageReport; reach: Reachability }> {
  const reach = await walkReachability(parts, opts);
  const snapshotsRemoved: string[] = [];
  let bytesFreed = 0;
  const kept = new Set<string>();
  for (const id of reach.garbageSnapshots) {
    throwIfAborted(opts.signal);
    const freed = await removeGarbageSnapshot(parts, id);
    if (freed === undefined) {
      kept.add(id);
      continue;
    }
    snapshotsRemoved.push(id);
    bytesFreed += freed;
  }
  let rowsRemoved = 0;
  for (const id of reach.orphanRefs) if (parts.refs.deleteUnheld(id)) rowsRemoved++;
  for (const e of reach.orphanLayerEntries) if (parts.layerBlobs.deleteEntry(e.snapshotId, e.compression)) rowsRemoved++;
  const blobsRemoved: string[] = [];
  // A garbage snapshot that could not go (held meanwhile) keeps its layer blobs.
  const keepBlobs = new Set(kept.size === 0 ? [] : parts.layerBlobs.links().filter((e) => kept.has(e.snapshotId)).map((e) => e.blobDigest));
  for (const b of reach.garbageBlobs) {
    throwIfAborted(opts.signal);
    if (keepBlobs.has(b.digest)) continue;
    const freed = await removeGarbageBlob(parts, reach, b.digest);
    if (freed === undefined) continue;
    blobsRemoved.push(b.digest);
    bytesFreed += freed;
  }
  return { report: { snapshotsRemoved, blobsRemoved, rowsRemoved, bytesFreed }, reach };
}

/**
 * Removes a snapshot the walk found to be garbage, unless a record or a live ref took it since.
 * Returns the bytes freed, or undefined when it stays.
 */
export async function removeGarbageSnapshot(parts: CacheParts, id: string): Promise<number | undefined> {
  const claimed = parts.db.write(() => parts.records.byResult(id).length === 0 && parts.refs.tombstoneIfUnheld(id));
  if (!claimed) return undefined;
  let bytes = parts.refs.info(id)?.size;
  try {
    bytes ??= (await parts.inventory.usage(id)).bytes;
  } catch {
    bytes = 0;
  }
  try {
    // Not cancellable on purpose: a removal stopped halfway helps nobody.
    await parts.inventory.remove(id);
  } catch {
    // A child appeared meanwhile (or it is mounted): it is not garbage after all.
    parts.refs.finishRemoval([id]);
    return undefined;
  }
  parts.layerBlobs.deleteSnapshot(id);
  parts.refs.finishRemoval([id]);
  return bytes;
}

/** Deletes an unreachable blob unless it was claimed since the walk. Returns the bytes freed. */
export function removeGarbageBlob(parts: CacheParts, reach: Pick<Reachability, 'youngSince'>, digest: string): Promise<number | undefined> {
  return parts.content.collect(digest, (mtimeMs) => mtimeMs >= youngSince(parts, reach.youngSince));
}
