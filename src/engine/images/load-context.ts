/**
 * What the two archive readers (docker's manifest.json, OCI's index.json) share once the tar has
 * been streamed into the content store: resolving archive paths (links included), checking that
 * referenced blobs are present, reading small JSON blobs, and one error shape that names the
 * archive and the document at fault.
 */
import { COMPRESSION_HEAD_BYTES, detectCompression, type Compression } from '../../util/compression.js';
import type { CacheStorage } from '../../cache/cache-storage.js';
import { isSha256Digest, sha256Digest } from '../../cache/digest.js';
import { UserInputError, type TsbuildError } from '../../util/errors.js';
import { archivePath, climbsOut, type ArchiveContents, type StoredFile } from './archive-reader.js';

/** One image the archive yields, ready for the image store. */
export interface PlannedImage {
  /** Normalized references; empty for an untagged image. */
  readonly names: readonly string[];
  /** What the store entry points at: an image manifest, or an index holding this platform's manifest. */
  readonly manifestDigest: string;
  readonly mediaType: string;
  readonly configDigest: string;
}

/** Blob compressions recognised by magic bytes. */

export class LoadContext {
  readonly storage: CacheStorage;
  readonly contents: ArchiveContents;
  readonly label: string;
  readonly signal: AbortSignal;
  /** Blobs made while planning (manifests built for the legacy format), for cleanup on failure. */
  readonly created = new Set<string>();

  constructor(init: { storage: CacheStorage; contents: ArchiveContents; label: string; signal: AbortSignal }) {
    this.storage = init.storage;
    this.contents = init.contents;
    this.label = init.label;
    this.signal = init.signal;
  }

  /** `IMAGE_LOAD_*` error naming the archive (and the document, when given). */
  error(code: string, where: string | undefined, message: string): TsbuildError {
    return new UserInputError(code, `${this.label}: ${where ? `${where}: ` : ''}${message}`);
  }

  /**
   * The stored file at an archive path (as manifest.json names it), following symlinks and
   * hardlinks inside the archive. Absolute paths, `..` above the archive root and links that
   * point outside it are refused: an archive names only its own files.
   */
  file(path: string, where: string): StoredFile {
    if (path.startsWith('/')) throw this.error('IMAGE_LOAD_UNSAFE_PATH', where, `${JSON.stringify(path)} is an absolute path; archive paths are relative to the archive root`);
    let p = archivePath(path);
    if (climbsOut(p)) throw this.error('IMAGE_LOAD_UNSAFE_PATH', where, `${JSON.stringify(path)} climbs out of the archive with ".."`);
    for (let hops = 0; hops < 16; hops++) {
      const f = this.contents.files.get(p);
      if (f) return f;
      const link = this.contents.links.get(p);
      if (link === undefined) break;
      if (link.target === undefined) {
        throw this.error('IMAGE_LOAD_UNSAFE_PATH', where, `${p} is a ${link.kind} to ${JSON.stringify(link.linkname)}, outside the archive`);
      }
      p = link.target;
    }
    throw this.error('IMAGE_LOAD_BLOB_MISSING', where, `${path} is referenced but not in the archive`);
  }

  /** Checks a descriptor's blob is stored (from this archive or before) with the size it claims. */
  async requireBlob(digest: unknown, size: unknown, where: string): Promise<string> {
    if (typeof digest !== 'string' || !isSha256Digest(digest)) {
      throw this.error('IMAGE_LOAD_INVALID', where, `invalid digest ${JSON.stringify(digest)} (only sha256 digests are supported)`);
    }
    let info = await this.storage.content.info(digest, { signal: this.signal });
    if (!info) {
      // Present only as a link (blobs/sha256/<hex> → elsewhere): checked like any archive path.
      const path = `blobs/sha256/${digest.slice('sha256:'.length)}`;
      if (this.contents.links.has(path)) {
        const f = this.file(path, where);
        if (f.digest !== digest) throw this.error('IMAGE_LOAD_DIGEST_MISMATCH', where, `${path} links to content that does not match its digest (it hashes to ${f.digest})`);
        info = await this.storage.content.info(digest, { signal: this.signal });
      }
    }
    if (!info) throw this.error('IMAGE_LOAD_BLOB_MISSING', where, `blob ${digest} is referenced but not in the archive`);
    if (typeof size === 'number' && size !== info.size) {
      throw this.error('IMAGE_LOAD_SIZE_MISMATCH', where, `blob ${digest} is ${info.size} bytes, the descriptor says ${size}`);
    }
    return digest;
  }

  /** A stored blob parsed as a JSON object. */
  async readJsonBlob<T>(digest: string, what: string): Promise<T> {
    const bytes = await this.storage.content.readAll(digest, { signal: this.signal });
    return this.parseJson<T>(bytes, `${what} ${digest}`);
  }

  parseJson<T>(bytes: Buffer, where: string): T {
    let v: unknown;
    try {
      v = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw this.error('IMAGE_LOAD_INVALID_JSON', where, `invalid JSON: ${(e as Error).message}`);
    }
    if (typeof v !== 'object' || v === null) throw this.error('IMAGE_LOAD_INVALID_JSON', where, 'expected a JSON object or array');
    return v as T;
  }

  /** How a stored blob is compressed, from its first bytes. */
  async compressionOf(digest: string): Promise<Compression> {
    const src = await this.storage.content.reader(digest, { signal: this.signal });
    let head = Buffer.alloc(0);
    try {
      for await (const c of src) {
        head = Buffer.concat([head, c as Buffer]);
        if (head.length >= COMPRESSION_HEAD_BYTES) break;
      }
    } finally {
      src.destroy();
    }
    return detectCompression(head);
  }

  /** Stores a document this load made (a manifest); an existing copy is claimed instead. */
  async putBlob(bytes: Buffer): Promise<string> {
    const digest = sha256Digest(bytes);
    if (!(await this.storage.content.claim(digest, { signal: this.signal }))) {
      await this.storage.content.put(bytes, { signal: this.signal, expected: digest });
      this.created.add(digest);
    }
    return digest;
  }
}
