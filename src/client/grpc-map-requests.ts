/**
 * The gRPC client's requests: the contract's request types (types.ts) → proto messages for
 * tsbuildd's image and cache RPCs. The daemon reads them back with src/control/map-requests.ts;
 * answers come the other way through grpc-map-responses.ts. "Not set" is the proto zero value.
 */
import type { tsbuild } from './gen/control.js';
import type { DiskUsageRequest, ImageRef, PruneRequest, RemoveImageRequest, TagImageRequest } from './types.js';

type v1 = typeof tsbuild.control.v1;
type Props<T extends keyof v1> = v1[T] extends { encode(m: infer M, ...rest: never[]): unknown } ? M : never;

export function imageRefOut(r: ImageRef): Props<'InspectRequest'> {
  return { name: r.name };
}

export function removeImageOut(r: RemoveImageRequest): Props<'RemoveImageRequest'> {
  return { name: r.name, force: r.force ?? false };
}

export function tagImageOut(r: TagImageRequest): Props<'TagImageRequest'> {
  return { source: r.source, target: r.target };
}

export function diskUsageOut(r: DiskUsageRequest): Props<'DiskUsageRequest'> {
  return { verbose: r.verbose ?? false };
}

export function pruneOut(r: PruneRequest): Props<'PruneRequest'> {
  return {
    all: r.all ?? false,
    keepStorage: r.keepStorage ?? 0,
    keepDurationMs: r.keepDuration ?? 0,
    filterTypes: [...(r.filters?.type ?? [])],
    filterDescription: r.filters?.description ?? '',
  };
}
