/**
 * The gRPC client's answers: decoded proto messages from tsbuildd → the contract's answer types,
 * equal to what the embedded engine returns for the same store (the contract suite checks it).
 * The daemon encodes them with src/control/map-responses.ts; proto's zero values ("" and 0) stand
 * for the contract's absent optional fields.
 */
import type { tsbuild } from './gen/control.js';
import type {
  DiskUsage, DiskUsageRecord, EngineInfo, GraphDriverData, HistoryRow, ImageInspect, ImageRecord, ImageSummary, PrunedRecord, RecordType,
  RemovedImage,
} from './types.js';

type v1 = typeof tsbuild.control.v1;
type Props<T extends keyof v1> = v1[T] extends { encode(m: infer M, ...rest: never[]): unknown } ? M : never;

/** `s` when it is a non-empty string, else nothing (proto's "" means unset). */
function opt<K extends string>(key: K, s: string | null | undefined): { [P in K]?: string } {
  return s ? ({ [key]: s } as { [P in K]?: string }) : {};
}

export function engineInfoIn(r: Props<'InfoResponse'>): EngineInfo {
  const e = r.engine;
  return {
    version: r.version ?? '',
    root: r.dataRoot ?? '',
    kernel: r.kernel ?? '',
    runc: { ...opt('path', e?.runcPath), ...opt('version', r.runcVersion) },
    platform: r.platform ?? '',
    platforms: [...(e?.platforms ?? [])],
    snapshotter: 'overlay2',
    outputs: [...(e?.outputs ?? [])],
    features: [...(e?.features ?? [])],
    gcKeepStorage: Number(r.config?.gcKeepStorage ?? 0),
  };
}

export function imageSummaryIn(s: Props<'ImageSummary'>): ImageSummary {
  return {
    ...opt('name', s.name), repository: s.repository ?? '', tag: s.tag ?? '', id: s.id ?? '', manifestDigest: s.manifestDigest ?? '',
    ...opt('created', s.created), size: s.size ?? 0, ...opt('digest', s.digest),
    ...(s.platforms && s.platforms.length > 0 ? { platforms: [...s.platforms] } : {}),
  };
}

export function removedImageIn(r: Props<'RemoveImageResponse'>): RemovedImage {
  return { untagged: [...(r.untagged ?? [])], deleted: [...(r.deleted ?? [])] };
}

export function imageRecordIn(r: Props<'ImageRecord'>): ImageRecord {
  return {
    name: r.name ?? '', manifestDigest: r.manifestDigest ?? '', configDigest: r.configDigest ?? '', mediaType: r.mediaType ?? '',
    createdAt: r.createdMs ?? 0, updatedAt: r.updatedMs ?? 0,
  };
}

export function historyRowIn(r: Props<'ImageHistoryRow'>): HistoryRow {
  return {
    id: r.id ?? '', ...opt('created', r.created), createdBy: r.createdBy ?? '', size: r.size ?? 0, comment: r.comment ?? '',
    emptyLayer: r.emptyLayer ?? false, ...opt('layer', r.layer),
  };
}

function graphDriverData(d: { readonly [k: string]: string } | null | undefined): GraphDriverData | null {
  if (!d || d['UpperDir'] === undefined) return null;
  return {
    ...opt('LowerDir', d['LowerDir']), UpperDir: d['UpperDir'], MergedDir: d['MergedDir'] ?? '', WorkDir: d['WorkDir'] ?? '',
  };
}

export function imageInspectIn(i: Props<'ImageInspect'>): ImageInspect {
  return {
    Id: i.id ?? '',
    RepoTags: [...(i.repoTags ?? [])],
    RepoDigests: [...(i.repoDigests ?? [])],
    Parent: i.parent ?? '',
    Comment: i.comment ?? '',
    ...opt('Created', i.created),
    DockerVersion: i.dockerVersion ?? '',
    Author: i.author ?? '',
    Config: (i.configJson ? JSON.parse(i.configJson) : {}) as ImageInspect['Config'],
    Architecture: i.architecture ?? '',
    ...opt('Variant', i.variant),
    Os: i.os ?? '',
    Size: i.size ?? 0,
    VirtualSize: i.virtualSize ?? 0,
    GraphDriver: { Name: 'overlay2', Data: graphDriverData(i.graphDriverData) },
    RootFS: { Type: 'layers', Layers: [...(i.layers ?? [])] },
    Metadata: { LastTagTime: i.lastTagTime ?? '' },
    ...(i.platforms && i.platforms.length > 0 ? { Platforms: [...i.platforms] } : {}),
  };
}

function cacheRecordIn(r: Props<'CacheRecord'>, verbose: boolean): DiskUsageRecord {
  return {
    key: r.key ?? '', output: r.output ?? 0, resultId: r.resultId ?? '', recordType: (r.recordType ?? 'regular') as RecordType,
    description: r.description ?? '', size: r.size ?? 0, createdAt: r.createdMs ?? 0, lastUsedAt: r.lastUsedMs ?? 0,
    useCount: r.useCount ?? 0, inUse: r.inUse ?? false, shared: r.shared ?? false,
    // Verbose answers always list input keys (maybe none) and name a parent when there is one.
    ...(verbose ? { ...opt('parent', r.parent), inputKeys: [...(r.inputKeys ?? [])] } : {}),
  };
}

export function diskUsageIn(d: Props<'DiskUsageResponse'>, verbose: boolean): DiskUsage {
  return {
    records: (d.records ?? []).map((r) => cacheRecordIn(r, verbose)),
    totalBytes: d.totalBytes ?? 0, privateBytes: d.privateBytes ?? 0, sharedBytes: d.sharedBytes ?? 0,
    reclaimableBytes: d.reclaimableBytes ?? 0, contentBytes: d.contentBytes ?? 0,
    uncompressedLayerBytes: d.uncompressedLayerBytes ?? 0, compressedLayerBytes: d.compressedLayerBytes ?? 0,
    disk: {
      snapshots: d.disk?.snapshots ?? 0, content: d.disk?.content ?? 0, metadata: d.disk?.metadata ?? 0,
      other: d.disk?.other ?? 0, total: d.disk?.total ?? 0,
    },
  };
}

export function prunedRecordIn(r: Props<'PrunedRecord'>): PrunedRecord {
  return {
    key: r.key ?? '', output: r.output ?? 0, resultId: r.resultId ?? '', recordType: (r.recordType ?? 'regular') as RecordType,
    description: r.description ?? '', size: r.size ?? 0,
  };
}
