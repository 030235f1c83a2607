/**
 * The local image store: image name → manifest digest and config digest (blobs in the content
 * store), and each image's RepoDigests (by image ID, as docker keeps them: a tag may move or go,
 * the digests stay with the image until its last name goes).
 */
import { MediaType } from '../oci/types.js';
import { UserInputError } from '../util/errors.js';
import { digestHex } from './digest.js';
import type { MetadataDb } from './metadata-db.js';
import type { ImageEntry, PutImageOptions, RepoDigestEntry } from './types.js';

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
      this.db.prepare(`INSERT INTO images (name, manifest_digest, config_digest, media_type, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET manifest_digest = excluded.manifest_digest, config_digest = excluded.config_digest,
          media_type = excluded.media_type, updated_at = excluded.updated_at`)
        .run(o.name, o.manifestDigest, o.configDigest, o.mediaType ?? MediaType.ociManifest, now, now);
    });
    return this.get(o.name) as ImageEntry;
  }

  get(name: string): ImageEntry | undefined {
    const r = this.db.prepare('SELECT * FROM images WHERE name = ?').get(name) as Row | undefined;
    return r && toEntry(r);
  }

  list(): ImageEntry[] {
    return (this.db.prepare('SELECT * FROM images ORDER BY name').all() as Row[]).map(toEntry);
  }

  /**
   * Removes a name; false when it did not exist. Blobs stay until prune. The image's RepoDigests go
   * with its last name (a name moved to another image by put() keeps them: the image stays, dangling).
   */
  delete(name: string): boolean {
    return this.db.write(() => {
      const before = this.get(name);
      if (!before) return false;
      this.db.prepare('DELETE FROM images WHERE name = ?').run(name);
      const left = this.db.prepare('SELECT 1 FROM images WHERE config_digest = ? LIMIT 1').get(before.configDigest);
      if (left === undefined) this.db.prepare('DELETE FROM repo_digests WHERE image_id = ?').run(before.configDigest);
      return true;
    });
  }

  /** Records that `imageId` is `digest` in `repository` (after a push or pull); replaces that repository's previous one. */
  setRepoDigest(imageId: string, repository: string, digest: string): void {
    digestHex(imageId);
    digestHex(digest);
    checkName(repository);
    this.db.write(() => {
      this.db.prepare(`INSERT INTO repo_digests (image_id, repository, digest, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (image_id, repository) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`)
        .run(imageId, repository, digest, this.now());
    });
  }

  /** The image's RepoDigests, by repository name. */
  repoDigests(imageId: string): RepoDigestEntry[] {
    return this.db.prepare('SELECT repository, digest FROM repo_digests WHERE image_id = ? ORDER BY repository')
      .all(imageId) as RepoDigestEntry[];
  }

  /** Forgets the image's digest in one repository (docker's rmi of the repository's last tag). */
  dropRepoDigest(imageId: string, repository: string): void {
    this.db.write(() => {
      this.db.prepare('DELETE FROM repo_digests WHERE image_id = ? AND repository = ?').run(imageId, repository);
    });
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
