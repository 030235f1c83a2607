/**
 * How big a layer really is, as `docker history` and `docker images` show it: the bytes of the
 * files it holds (regular files and symlink targets, hardlinks once — what Docker's overlay2
 * driver reports as a layer's DiffSize), plus the uncompressed tar size and diff_id. Learning
 * these costs one decompression of the blob, so each answer is remembered by blob digest in the
 * metadata database (table `layer_sizes`); a blob's bytes never change, so the rows never go stale.
 */
import { createHash } from 'node:crypto';
import type { CacheStorage } from '../cache/cache-storage.js';
import { decompressLayer } from '../worker/diff/decompress.js';
import { LayerError, LayerErrorCode } from '../worker/diff/errors.js';
import { DEFAULT_LAYER_LIMITS, limitExceeded, type LayerLimits } from '../worker/diff/layer-limits.js';
import { readTar } from '../worker/diff/tar-reader.js';
import { TsbuildError, errorMessage, throwIfAborted } from '../util/errors.js';

export interface LayerSize {
  /** sha256 of the uncompressed tar (the config's diff_id for this layer). */
  readonly diffId: string;
  /** Bytes of the uncompressed tar. */
  readonly uncompressedSize: number;
  /** Bytes of file content: regular files plus symlink targets, hardlinked data counted once. */
  readonly contentSize: number;
}

interface Row {
  diff_id: string;
  uncompressed_size: number;
  content_size: number;
}

export class LayerSizes {
  readonly #storage: CacheStorage;
  readonly #limits: LayerLimits;

  /** `limits`: the byte and entry limits stop a measurement as they stop an apply (default DEFAULT_LAYER_LIMITS). */
  constructor(opts: { readonly storage: CacheStorage; readonly limits?: LayerLimits | undefined }) {
    this.#storage = opts.storage;
    this.#limits = opts.limits ?? DEFAULT_LAYER_LIMITS;
  }

  /** The remembered answer for a blob, without reading it. */
  known(blobDigest: string): LayerSize | undefined {
    const r = this.#storage.db.prepare('SELECT diff_id, uncompressed_size, content_size FROM layer_sizes WHERE blob_digest = ?').get(blobDigest) as Row | undefined;
    return r && { diffId: r.diff_id, uncompressedSize: r.uncompressed_size, contentSize: r.content_size };
  }

  /** The sizes of a stored layer blob; reads (and decompresses) it the first time only. */
  async of(blobDigest: string, opts: { readonly signal: AbortSignal }): Promise<LayerSize> {
    const hit = this.known(blobDigest);
    if (hit) return hit;
    const measured = await measureLayerBlob(this.#storage, blobDigest, { ...opts, limits: this.#limits });
    this.#storage.db.write(() => {
      this.#storage.db.prepare('INSERT OR REPLACE INTO layer_sizes (blob_digest, diff_id, uncompressed_size, content_size) VALUES (?, ?, ?, ?)')
        .run(blobDigest, measured.diffId, measured.uncompressedSize, measured.contentSize);
    });
    return measured;
  }
}

/** Streams a layer blob once: hashes and counts the uncompressed tar and sums its file content. */
export async function measureLayerBlob(storage: CacheStorage, blobDigest: string, opts: { readonly signal: AbortSignal; readonly limits?: LayerLimits }): Promise<LayerSize> {
  throwIfAborted(opts.signal);
  const limits = opts.limits ?? DEFAULT_LAYER_LIMITS;
  const src = await storage.content.reader(blobDigest, { signal: opts.signal });
  const hash = createHash('sha256');
  let uncompressedSize = 0;
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of decompressLayer(src)) {
      hash.update(chunk);
      uncompressedSize += chunk.length;
      if (uncompressedSize > limits.maxBytes) throw limitExceeded(limits, 'maxBytes');
      yield chunk;
    }
  }
  let contentSize = 0;
  let entries = 0;
  try {
    // Bodies are skipped, not read: only the headers matter here.
    for await (const entry of readTar(counted(), { signal: opts.signal })) {
      if (++entries > limits.maxEntries) throw limitExceeded(limits, 'maxEntries');
      const h = entry.header;
      if (h.type === 'file') contentSize += h.size;
      else if (h.type === 'symlink') contentSize += Buffer.byteLength(h.linkname, 'latin1');
    }
  } catch (e) {
    throwIfAborted(opts.signal);
    if (e instanceof LayerError && e.code === LayerErrorCode.limit) throw e.inLayer(blobDigest);
    throw new TsbuildError('LAYER_UNREADABLE', `layer ${blobDigest} is not a readable layer tar: ${errorMessage(e)}`, { cause: e });
  } finally {
    src.destroy();
  }
  return { diffId: `sha256:${hash.digest('hex')}`, uncompressedSize, contentSize };
}
