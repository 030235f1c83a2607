/**
 * What is live in a data root: the one walk that prune, rmi, the end of every operation, crash
 * recovery and `cache check` all decide by, so they cannot disagree about what is garbage.
 *
 * A snapshot is live when a cache record or a live ref holds it, when it is still being written
 * (active) or being removed by a live prune, when it was made after a running operation began
 * (that operation may record or hold it any moment), or when a live snapshot sits on it. Every
 * other snapshot is garbage: nothing can find it again.
 *
 * A blob is live when an image reaches it (manifest or index, recursively, to configs and layers),
 * when it is the layer blob of a live snapshot, or when it was written or claimed after a running
 * operation began. Everything else in the content store is garbage.
 *
 * "After a running operation began" is measured on the file system's clock (fs-clock.ts): the walk
 * starts by reading it, once it has moved past what was written before, and everything stamped at
 * or after the earliest live protecting lease, or after the walk itself began, is young and left
 * alone.
 */
import type { CacheParts } from './cache-parts.js';
import { isSha256Digest } from './digest.js';
import { fsClockTick } from './fs-clock.js';
import type { BlobInfo, LayerBlobLink, SignalOptions, SnapshotEntry } from './types.js';
import { throwIfAborted } from '../util/errors.js';

export interface Reachability {
  /** Every snapshot the inventory lists. */
  readonly snapshots: ReadonlyMap<string, SnapshotEntry>;
  readonly liveSnapshots: ReadonlySet<string>;
  /**
   * Snapshots that stay whatever happens to cache records: held by a live ref, being written or
   * removed, young — and everything they sit on. Prune may drop any other record.
   */
  readonly pinned: ReadonlySet<string>;
  /** Committed snapshots nothing needs, children before their parents. */
  readonly garbageSnapshots: readonly string[];
  readonly liveBlobs: ReadonlySet<string>;
  readonly garbageBlobs: readonly BlobInfo[];
  /** Ref rows nobody holds whose snapshot no longer exists. */
  readonly orphanRefs: readonly string[];
  /** Layer-blob entries whose snapshot no longer exists. */
  readonly orphanLayerEntries: readonly LayerBlobLink[];
  /** File-system time (ms): what is stamped at or after it is young (see youngSince()). */
  readonly youngSince: number;
}

/**
 * The instant from which objects are young: the earlier of `walkStart` and the start of the
 * earliest live protecting lease. Read again before each deletion, since leases come and go.
 */
export function youngSince(parts: CacheParts, walkStart: number): number {
  const lease = parts.leases.protectingSince();
  return lease === undefined ? walkStart : Math.min(lease, walkStart);
}

export async function walkReachability(parts: CacheParts, opts: SignalOptions = {}): Promise<Reachability> {
  throwIfAborted(opts.signal);
  // Strictly after what the operations before the walk wrote: in the same coarse tick as its start
  // they would count as young and stay (a failed load's blobs before a collection, a blob put just
  // before `cache check`; both seen in CI).
  const walkStart = await fsClockTick(parts.paths.tmp, opts.signal);
  const young = youngSince(parts, walkStart);
  const listed = await parts.inventory.list(opts);
  const snapshots = new Map(listed.map((s) => [s.id, s]));

  const held = parts.refs.referenced();
  const pins = new Set<string>(held);
  for (const id of parts.refs.liveTombstones()) pins.add(id);
  for (const s of listed) if (s.active === true || (s.createdAt !== undefined && s.createdAt >= young)) pins.add(s.id);
  const pinned = withAncestors(pins, snapshots);
  const recorded = parts.records.resultIds();
  const liveSnapshots = withAncestors([...pinned, ...recorded], snapshots);
  const garbageSnapshots = childrenFirst(listed.filter((s) => !liveSnapshots.has(s.id)), snapshots);

  const entries = parts.layerBlobs.links();
  const liveBlobs = await imageBlobs(parts, opts);
  for (const e of entries) if (liveSnapshots.has(e.snapshotId)) liveBlobs.add(e.blobDigest);
  // Live blobs are not even stat'ed: a walk looks only at the others.
  const garbageBlobs: BlobInfo[] = [];
  for await (const b of parts.content.list(opts, liveBlobs)) if (b.committedAt < young) garbageBlobs.push(b);

  const tombstoned = new Set(parts.refs.liveTombstones());
  const orphanRefs = parts.refs.ids().filter((id) => !held.has(id) && !snapshots.has(id) && !tombstoned.has(id));
  const orphanLayerEntries = entries.filter((e) => !snapshots.has(e.snapshotId));
  return { snapshots, liveSnapshots, pinned, garbageSnapshots, liveBlobs, garbageBlobs, orphanRefs, orphanLayerEntries, youngSince: young };
}

/** The ids and every snapshot below them (their parents, recursively). */
function withAncestors(ids: Iterable<string>, all: ReadonlyMap<string, SnapshotEntry>): Set<string> {
  const out = new Set<string>();
  for (const id of ids) {
    for (let cur: string | undefined = id; cur !== undefined && !out.has(cur); cur = all.get(cur)?.parent) out.add(cur);
  }
  return out;
}

/** Deepest first, so a snapshot comes before the one it sits on. */
function childrenFirst(list: readonly SnapshotEntry[], all: ReadonlyMap<string, SnapshotEntry>): string[] {
  const depth = (s: SnapshotEntry): number => {
    let n = 0;
    const seen = new Set<string>();
    for (let p = s.parent; p !== undefined && !seen.has(p); p = all.get(p)?.parent) {
      seen.add(p);
      n++;
    }
    return n;
  };
  return list.map((s) => ({ id: s.id, d: depth(s) })).sort((a, b) => b.d - a.d || a.id.localeCompare(b.id)).map((x) => x.id);
}

interface Referencing {
  config?: { digest?: unknown };
  layers?: { digest?: unknown }[];
  manifests?: { digest?: unknown }[];
}

/** Manifests and indexes are small; anything bigger is not one. */
const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** Every blob reachable from the images in the store. */
export function imageBlobs(parts: CacheParts, opts: SignalOptions = {}): Promise<Set<string>> {
  return blobsReachableFrom(parts, parts.images.list().map((e) => e.manifestDigest), opts, parts.images.list().map((e) => e.configDigest));
}

/**
 * Every blob reachable from the given manifests or indexes (recursively: nested manifests, their
 * configs and layers), the roots and `leaves` included. Only manifests and indexes are read.
 */
export async function blobsReachableFrom(parts: CacheParts, manifests: Iterable<string>, opts: SignalOptions = {}, leaves: Iterable<string> = []): Promise<Set<string>> {
  const out = new Set<string>();
  for (const d of leaves) if (isSha256Digest(d)) out.add(d);
  const queue: string[] = [...manifests];
  const read = new Set<string>();
  while (queue.length > 0) {
    throwIfAborted(opts.signal);
    const d = queue.pop() as string;
    if (read.has(d) || !isSha256Digest(d)) continue;
    read.add(d);
    out.add(d);
    let doc: Referencing;
    try {
      const info = await parts.content.info(d, opts);
      if (!info || info.size > MAX_DOCUMENT_BYTES) continue;
      doc = JSON.parse((await parts.content.readAll(d, opts)).toString('utf8')) as Referencing;
    } catch {
      continue;
    }
    if (typeof doc !== 'object' || doc === null) continue;
    for (const r of [doc.config, ...(Array.isArray(doc.layers) ? doc.layers : [])]) {
      if (typeof r?.digest === 'string' && isSha256Digest(r.digest)) out.add(r.digest);
    }
    for (const m of Array.isArray(doc.manifests) ? doc.manifests : []) if (typeof m?.digest === 'string') queue.push(m.digest);
  }
  return out;
}
