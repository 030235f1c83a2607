/**
 * du: what the cache holds, per record and in total, and where every byte of the data root is. A
 * result counts once however many records hold it; "shared" results are held by several records
 * or sit under another record's result. The data-root totals count what is on disk, garbage and
 * leftovers included, so that they add up to what du(1) says (see docs/cache.md for the margin).
 */
import { treeUsage } from '../util/tree-usage.js';
import type { CacheParts } from './cache-parts.js';
import { walkReachability } from './reachability.js';
import { ancestors, loadResultGraph } from './result-graph.js';
import type { DataRootUsage, DiskUsage, DiskUsageRecord, DuOptions, SignalOptions } from './types.js';

export async function diskUsage(parts: CacheParts, opts: DuOptions = {}): Promise<DiskUsage> {
  const g = await loadResultGraph(parts, opts);
  // Results that lie under another record's result (its ancestors) are shared with it.
  const underOthers = new Set<string>();
  for (const id of g.holders.keys()) for (const a of ancestors(g.parent, id)) underOthers.add(a);

  // A result is reclaimable unless in use or pinned: something prune leaves alone sits on it (a
  // live ref, an active snapshot of a running build, a snapshot a running operation just made).
  const needed = (await walkReachability(parts, opts)).pinned;

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
  const known = new Map<string, number>(g.size);
  for (const r of parts.refs.list()) if (r.size !== undefined && !known.has(r.resultId)) known.set(r.resultId, r.size);
  return {
    records,
    totalBytes,
    sharedBytes,
    privateBytes: totalBytes - sharedBytes,
    reclaimableBytes,
    contentBytes: await parts.content.totalBytes(opts),
    ...(await layerBlobBytes(parts, opts)),
    disk: await dataRootUsage(parts, known, opts),
  };
}

/**
 * Bytes of the layer blobs in the content store, uncompressed and compressed (each blob once; a
 * blob some entry names but the store lacks counts nothing).
 */
async function layerBlobBytes(parts: CacheParts, opts: SignalOptions): Promise<{ uncompressedLayerBytes: number; compressedLayerBytes: number }> {
  const kinds = new Map<string, boolean>();
  for (const e of parts.layerBlobs.list()) if (!kinds.has(e.blobDigest)) kinds.set(e.blobDigest, e.compression !== 'uncompressed');
  let uncompressedLayerBytes = 0;
  let compressedLayerBytes = 0;
  for (const [digest, compressed] of kinds) {
    const info = await parts.content.info(digest, opts);
    if (!info) continue;
    if (compressed) compressedLayerBytes += info.size;
    else uncompressedLayerBytes += info.size;
  }
  return { uncompressedLayerBytes, compressedLayerBytes };
}

/** `{ parent }` when there is one: records leave absent fields out rather than set them undefined. */
function optionalParent(parent: string | undefined): { parent?: string } {
  return parent === undefined ? {} : { parent };
}

/** Walks the data root once; the snapshot directory is measured by the inventory (known diff sizes reused). */
export async function dataRootUsage(parts: CacheParts, knownDiffBytes: ReadonlyMap<string, number>, opts: SignalOptions = {}): Promise<DataRootUsage> {
  const { paths } = parts;
  const byte = (p: string): string => Buffer.from(p, 'utf8').toString('latin1');
  const overlay = byte(paths.overlay2);
  const content = byte(paths.content);
  const dbFiles = new Set([paths.metadataDb, `${paths.metadataDb}-wal`, `${paths.metadataDb}-shm`].map(byte));
  const seen = new Set<string>();
  let snapshots = 0;
  let contentBytes = 0;
  let metadata = 0;
  const pending: Promise<void>[] = [];
  // The walk asks synchronously; the measured parts are added after it (their placeholders count 0).
  const substitute = (p: string): number | undefined => {
    if (p === overlay) {
      pending.push(parts.inventory.footprint({ knownDiffBytes, ...(opts.signal ? { signal: opts.signal } : {}) }).then((u) => { snapshots = u.bytes; }));
      return 0;
    }
    if (p === content) {
      pending.push(treeUsage(paths.content, { seen, ...(opts.signal ? { signal: opts.signal } : {}) }).then((u) => { contentBytes = u.bytes; }));
      return 0;
    }
    if (dbFiles.has(p)) {
      pending.push(treeUsage(Buffer.from(p, 'latin1').toString('utf8')).then((u) => { metadata += u.bytes; }));
      return 0;
    }
    return undefined;
  };
  const rest = await treeUsage(paths.root, { seen, substitute, ...(opts.signal ? { signal: opts.signal } : {}) });
  await Promise.all(pending);
  return { snapshots, content: contentBytes, metadata, other: rest.bytes, total: rest.bytes + snapshots + contentBytes + metadata };
}
