/**
 * The client contract's answers (what the Engine returns) → proto messages, for the image and
 * cache RPCs. The requests come the other way in map-requests.ts; the client turns these messages
 * back with src/client/grpc-map-responses.ts, and the contract suite checks the round trip gives
 * the embedded client's answers. Proto has no optional scalars: unset becomes "" (or 0), the
 * image config travels as JSON (`config_json`), times as epoch milliseconds.
 */
import type { tsbuild } from '../client/gen/control.js';
import type {
  DiskUsage, DiskUsageRecord, HistoryRow, ImageInspect, ImageRecord, ImageSummary, PrunedRecord, PruneResult, RemovedImage,
} from '../client/types.js';

type v1 = typeof tsbuild.control.v1;
type Props<T extends keyof v1> = v1[T] extends { encode(m: infer M, ...rest: never[]): unknown } ? M : never;

export function imageSummaryOut(s: ImageSummary): Props<'ImageSummary'> {
  return {
    name: s.name ?? '', repository: s.repository, tag: s.tag, id: s.id, manifestDigest: s.manifestDigest, created: s.created ?? '', size: s.size, digest: s.digest ?? '', platforms: [...(s.platforms ?? [])],
  };
}

export function removedImageOut(r: RemovedImage): Props<'RemoveImageResponse'> {
  return { untagged: [...r.untagged], deleted: [...r.deleted] };
}

export function imageRecordOut(r: ImageRecord): Props<'ImageRecord'> {
  return { name: r.name, manifestDigest: r.manifestDigest, configDigest: r.configDigest, mediaType: r.mediaType, createdMs: r.createdAt, updatedMs: r.updatedAt };
}

export function historyRowOut(r: HistoryRow): Props<'ImageHistoryRow'> {
  return {
    id: r.id, created: r.created ?? '', createdBy: r.createdBy, size: r.size, comment: r.comment, emptyLayer: r.emptyLayer, layer: r.layer ?? '',
  };
}

export function imageInspectOut(i: ImageInspect): Props<'ImageInspect'> {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(i.GraphDriver.Data ?? {})) if (typeof v === 'string') data[k] = v;
  return {
    id: i.Id,
    repoTags: [...i.RepoTags],
    repoDigests: [...i.RepoDigests],
    parent: i.Parent,
    comment: i.Comment,
    created: i.Created ?? '',
    dockerVersion: i.DockerVersion,
    author: i.Author,
    configJson: JSON.stringify(i.Config),
    architecture: i.Architecture,
    variant: i.Variant ?? '',
    os: i.Os,
    size: i.Size,
    virtualSize: i.VirtualSize,
    graphDriverName: i.GraphDriver.Name,
    graphDriverData: data,
    layers: [...i.RootFS.Layers],
    lastTagTime: i.Metadata.LastTagTime,
    platforms: [...(i.Platforms ?? [])],
  };
}

function cacheRecordOut(r: DiskUsageRecord): Props<'CacheRecord'> {
  return {
    key: r.key, output: r.output, resultId: r.resultId, recordType: r.recordType, description: r.description, size: r.size,
    createdMs: r.createdAt, lastUsedMs: r.lastUsedAt, useCount: r.useCount, inUse: r.inUse, shared: r.shared,
    parent: r.parent ?? '', inputKeys: [...(r.inputKeys ?? [])],
  };
}

export function diskUsageOut(d: DiskUsage): Props<'DiskUsageResponse'> {
  return {
    records: d.records.map(cacheRecordOut),
    totalBytes: d.totalBytes, privateBytes: d.privateBytes, sharedBytes: d.sharedBytes, reclaimableBytes: d.reclaimableBytes, contentBytes: d.contentBytes,
    uncompressedLayerBytes: d.uncompressedLayerBytes, compressedLayerBytes: d.compressedLayerBytes,
    disk: { ...d.disk },
  };
}

export function prunedRecordOut(r: PrunedRecord): Props<'PrunedRecord'> {
  return { key: r.key, output: r.output, resultId: r.resultId, recordType: r.recordType, description: r.description, size: r.size };
}

export function pruneSummaryOut(r: PruneResult): Props<'PruneSummary'> {
  return { records: r.records.length, snapshotsRemoved: [...r.snapshotsRemoved], blobsRemoved: [...r.blobsRemoved], bytesFreed: r.bytesFreed };
}
