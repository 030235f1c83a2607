/** Remote cache import/export: the format, OCI layout directories, the record store. */
export type * from './types.js';
export { CACHE_CONFIG_MEDIA_TYPE, INLINE_CACHE_FIELD, CACHE_FORMAT_VERSION } from './types.js';
export { parseCacheConfig, checkCacheConfig, serializeCacheConfig, resolveChain, remoteRecords, CacheFormatError, EMPTY_LAYER_DIFF_ID } from './cache-config.js';
export { buildCacheConfig } from './cache-builder.js';
export type { ExportLayer, ExportRecord, BuiltCache } from './cache-builder.js';
export { RemoteRecordStore, isRemoteResultId } from './remote-record-store.js';
export { writeCacheLayout, readCacheLayout, layoutFetcher } from './oci-layout.js';
export { recordsForKey } from './local-records.js';
export type { LinkedRecord } from './local-records.js';
