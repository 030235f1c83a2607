/** The collaborators du, prune, GC and check work on (assembled by CacheStorage). */
import type { SqliteCacheStore } from './cache-record-store.js';
import type { ContentStore } from './content-store.js';
import type { DataRootPaths } from './data-root.js';
import type { DbLocks } from './db-lock.js';
import type { ImageStore } from './image-store.js';
import type { LayerBlobCache } from './layer-blob-cache.js';
import type { LeaseStore } from './lease-store.js';
import type { MetadataDb } from './metadata-db.js';
import type { RefStore } from './ref-store.js';
import type { SnapshotInventory } from './types.js';

export interface CacheParts {
  readonly paths: DataRootPaths;
  readonly db: MetadataDb;
  readonly content: ContentStore;
  readonly records: SqliteCacheStore;
  readonly refs: RefStore;
  readonly layerBlobs: LayerBlobCache;
  readonly images: ImageStore;
  readonly locks: DbLocks;
  readonly leases: LeaseStore;
  readonly inventory: SnapshotInventory;
  readonly now: () => number;
}
