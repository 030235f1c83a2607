/** The local image store: image name → manifest digest and config digest (blobs in the content store). */
import { MediaType } from '../oci/types.js';
import { UserInputError } from '../util/errors.js';
import { digestHex } from './digest.js';
import type { MetadataDb } from './metadata-db.js';
import type { ImageEntry, PutImageOptions } from './types.js';

interface Row {
  name: string;
  manifest_digest: string;
  config_digest: string;
  media_type: string;
  created_at: number;
  updated_at: number;
}

function toEntry(r: Row): ImageEntry {
  return {
    name: r.name,
    manifestDigest: r.manifest_digest,
    configDigest: r.config_digest,
    mediaType: r.media_type,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export class ImageStore {
  private readonly db: MetadataDb;
  private readonly now: () => number;

  constructor(opts: { readonly db: MetadataDb; readonly now?: () => number }) {
    this.db = opts.db;
    this.now = opts.now ?? Date.now;
  }

  /** Creates or moves a name to a manifest. */
  put(o: PutImageOptions): ImageEntry {
    checkName(o.name);
    digestHex(o.manifestDigest);
    digestHex(o.configDigest);
    const now = this.now();
    this.db.write(() => {
      this.db.sqlite.prepare(`INSERT INTO images (name, manifest_digest, config_digest, media_type, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET manifest_digest = excluded.manifest_digest, config_digest = excluded.config_digest,
          media_type = excluded.media_type, updated_at = excluded.updated_at`)
        .run(o.name, o.manifestDigest, o.configDigest, o.mediaType ?? MediaType.ociManifest, now, now);
    });
    return this.get(o.name) as ImageEntry;
  }

  get(name: string): ImageEntry | undefined {
    const r = this.db.sqlite.prepare('SELECT * FROM images WHERE name = ?').get(name) as Row | undefined;
    return r && toEntry(r);
  }

  list(): ImageEntry[] {
    return (this.db.sqlite.prepare('SELECT * FROM images ORDER BY name').all() as Row[]).map(toEntry);
  }

  /** Removes a name; false when it did not exist. Blobs stay until prune. */
  delete(name: string): boolean {
    return this.db.write(() => this.db.sqlite.prepare('DELETE FROM images WHERE name = ?').run(name).changes > 0);
  }

  /** Gives `target` the image `source` names. Throws IMAGE_NOT_FOUND. */
  tag(source: string, target: string): ImageEntry {
    checkName(target);
    const src = this.get(source);
    if (!src) throw new UserInputError('IMAGE_NOT_FOUND', `no such image: ${source}`);
    return this.put({ name: target, manifestDigest: src.manifestDigest, configDigest: src.configDigest, mediaType: src.mediaType });
  }
}

function checkName(name: string): void {
  if (name.length === 0 || /\s/.test(name)) throw new UserInputError('INVALID_IMAGE_NAME', `invalid image name "${name}"`);
}
