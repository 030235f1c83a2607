/**
 * Decoded proto requests → the client contract's requests (src/client/types.ts), for the image and
 * cache RPCs the daemon serves through the Engine. The opposite direction (answers) is
 * map-responses.ts; the client's twins are src/client/grpc-map-*.ts. Proto has no optional
 * scalars, so "not set" is the zero value: 0 for keep_storage/keep_duration_ms, "" and [] for the
 * filters.
 */
import type { tsbuild } from '../client/gen/control.js';
import type { DiskUsageRequest, ImageRef, PruneRequest, RecordType, RemoveImageRequest, TagImageRequest } from '../client/types.js';
import { RECORD_TYPES } from '../client/types.js';
import { UserInputError } from '../util/errors.js';

type P<T extends keyof typeof tsbuild.control.v1> = (typeof tsbuild.control.v1)[T] extends abstract new (...a: never[]) => infer I ? I : never;

export function imageRefIn(r: { readonly name?: string | null }): ImageRef {
  return { name: r.name ?? '' };
}

export function removeImageIn(r: P<'RemoveImageRequest'>): RemoveImageRequest {
  return { name: r.name, ...(r.force ? { force: true } : {}) };
}

export function tagImageIn(r: P<'TagImageRequest'>): TagImageRequest {
  return { source: r.source, target: r.target };
}

export function diskUsageIn(r: P<'DiskUsageRequest'>): DiskUsageRequest {
  return r.verbose ? { verbose: true } : {};
}

function recordType(t: string): RecordType {
  if (!(RECORD_TYPES as readonly string[]).includes(t)) {
    throw new UserInputError('PRUNE_FILTER_INVALID', `unknown record type "${t}" in filter_types: expected one of ${RECORD_TYPES.join(', ')}`);
  }
  return t as RecordType;
}

export function pruneIn(r: P<'PruneRequest'>): PruneRequest {
  const types = r.filterTypes.map(recordType);
  const filters = {
    ...(types.length > 0 ? { type: types } : {}),
    ...(r.filterDescription ? { description: r.filterDescription } : {}),
  };
  return {
    ...(r.all ? { all: true } : {}),
    ...(r.keepStorage > 0 ? { keepStorage: r.keepStorage } : {}),
    ...(r.keepDurationMs > 0 ? { keepDuration: r.keepDurationMs } : {}),
    ...(Object.keys(filters).length > 0 ? { filters } : {}),
  };
}
