/**
 * Remembers which blob a snapshot was exported as, per compression, so re-exports and pushes cost
 * nothing: (snapshot id, compression) → (blob digest, diff_id, size, media type). A build stores its
 * layers uncompressed (the blob digest is the diff_id); compressed blobs are added as layers leave
 * the machine, found by diff_id (one tar, whichever snapshot it came from).
 */
import { digestHex } from './digest.js';
import type { MetadataDb } from './metadata-db.js';
import type { LayerBlobEntry, LayerBlobLink, LayerBlobOrigin, LayerCompression } from './types.js';

interface Row {
  snapshot_id: string;
  compression: string;
  blob_digest: string;
  diff_id: string;
  size: number;
  media_type: string;
  created_at: number;
  origin: string;
}

const COMPRESSIONS: ReadonlySet<string> = new Set<LayerCompression>(['uncompressed', 'gzip', 'zstd']);

/** A row's compression; an unknown one (a newer version's) reads as uncompressed. */
function compressionOf(r: Pick<Row, 'compression'>): LayerCompression {
  return (COMPRESSIONS.has(r.compression) ? r.compression : 'uncompressed') as LayerCompression;
}

function toEntry(r: Row): LayerBlobEntry {
  return {
    snapshotId: r.snapshot_id,
    compression: compressionOf(r),
    blobDigest: r.blob_digest,
    diffId: r.diff_id,
    size: r.size,
    mediaType: r.media_type,
    createdAt: r.created_at,
    origin: r.origin === 'image' ? 'image' : 'export',
  };
}

export interface PutLayerBlobOptions {
  readonly snapshotId: string;
  readonly compression: LayerCompression;
  readonly blobDigest: string;
  readonly diffId: string;
  readonly size: number;
  readonly mediaType: string;
  /** Default `export`. */
  readonly origin?: LayerBlobOrigin;
}

export class LayerBlobCache {
  private readonly db: MetadataDb;
  private readonly now: () => number;

  constructor(opts: { readonly db: MetadataDb; readonly now?: () => number }) {
    this.db = opts.db;
    this.now = opts.now ?? Date.now;
  }

  get(snapshotId: string, compression: LayerCompression): LayerBlobEntry | undefined {
    const r = this.db.prepare('SELECT * FROM layer_blobs WHERE snapshot_id = ? AND compression = ?').get(snapshotId, compression) as Row | undefined;
    return r && toEntry(r);
  }

  /** Any compression of the snapshot (its diff_id is the same for all). */
  forSnapshot(snapshotId: string): LayerBlobEntry[] {
    return (this.db.prepare('SELECT * FROM layer_blobs WHERE snapshot_id = ? ORDER BY compression').all(snapshotId) as Row[]).map(toEntry);
  }

  /** Every entry whose layer tar is `diffId` (any snapshot, any compression). */
  byDiffId(diffId: string): LayerBlobEntry[] {
    return (this.db.prepare('SELECT * FROM layer_blobs WHERE diff_id = ? ORDER BY snapshot_id, compression').all(diffId) as Row[]).map(toEntry);
  }

  put(o: PutLayerBlobOptions): LayerBlobEntry {
    digestHex(o.blobDigest);
    digestHex(o.diffId);
    const now = this.now();
    this.db.write(() => {
      this.db.prepare('INSERT OR REPLACE INTO layer_blobs (snapshot_id, compression, blob_digest, diff_id, size, media_type, created_at, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(o.snapshotId, o.compression, o.blobDigest, o.diffId, o.size, o.mediaType, now, o.origin ?? 'export');
    });
    return { ...o, createdAt: now, origin: o.origin ?? 'export' };
  }

  /** Forgets a snapshot's blobs (all compressions). Returns the removed entries. */
  deleteSnapshot(snapshotId: string): LayerBlobEntry[] {
    return this.db.write(() => {
      const rows = this.forSnapshot(snapshotId);
      this.db.prepare('DELETE FROM layer_blobs WHERE snapshot_id = ?').run(snapshotId);
      return rows;
    });
  }

  /** Forgets one entry. True when it existed. */
  deleteEntry(snapshotId: string, compression: LayerCompression): boolean {
    return this.db.write(() => this.db.prepare('DELETE FROM layer_blobs WHERE snapshot_id = ? AND compression = ?').run(snapshotId, compression).changes > 0);
  }

  list(): LayerBlobEntry[] {
    return (this.db.prepare('SELECT * FROM layer_blobs ORDER BY snapshot_id, compression').all() as Row[]).map(toEntry);
  }

  /** Which snapshot each blob belongs to, and nothing else: what a garbage walk reads of every entry. */
  links(): LayerBlobLink[] {
    const rows = this.db.prepare('SELECT snapshot_id, compression, blob_digest FROM layer_blobs').all() as Pick<Row, 'snapshot_id' | 'compression' | 'blob_digest'>[];
    return rows.map((r) => ({ snapshotId: r.snapshot_id, compression: compressionOf(r), blobDigest: r.blob_digest }));
  }

  /** True when some snapshot's entry names this blob. */
  isBlobReferenced(blobDigest: string): boolean {
    return this.db.prepare('SELECT 1 FROM layer_blobs WHERE blob_digest = ? LIMIT 1').get(blobDigest) !== undefined;
  }
}
