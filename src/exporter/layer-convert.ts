/**
 * A layer blob in another compression, made from a blob of the same layer that is already in the
 * content store (decoded, re-encoded, its diff_id checked), so a layer is diffed from its snapshot
 * at most once: the build stores it uncompressed, and push, `-o type=oci|docker` and cache export
 * compress that. Each blob made is remembered for every snapshot whose layer has the same diff_id
 * (the same tar bytes), so the next push or export reuses the same bytes.
 */
import { Readable } from 'node:stream';
import type { CacheStorage } from '../cache/cache-storage.js';
import type { LayerBlobEntry, LayerBlobOrigin } from '../cache/types.js';
import { TsbuildError } from '../util/errors.js';
import { failpoint } from '../util/failpoint.js';
import { decompressLayer } from '../worker/diff/decompress.js';
import { layerMediaType, writeLayerBlob, type LayerBlobInfo } from './layer-blob.js';
import type { LayerOptions } from './types.js';

export interface BlobRef {
  readonly digest: string;
  readonly diffId: string;
}

/** Re-encodes the stored blob `from` (any compression) as `opts.compression`; commits it. */
export async function convertBlob(storage: CacheStorage, from: BlobRef, opts: LayerOptions, signal: AbortSignal): Promise<LayerBlobInfo> {
  const source = await storage.content.reader(from.digest, { signal });
  const tar = Readable.from(decompressLayer(source), { objectMode: false });
  const writer = storage.content.writer({ signal });
  try {
    const info = await writeLayerBlob(tar, writer, { compression: opts.compression, signal, ...(opts.level !== undefined ? { level: opts.level } : {}) });
    if (info.diffId !== from.diffId) {
      throw new TsbuildError('LAYER_DIFF_ID_MISMATCH', `layer blob ${from.digest} decodes to ${info.diffId}, not its diff_id ${from.diffId} (run "tsbuild cache check")`);
    }
    await failpoint('blob.written');
    await writer.commit();
    return info;
  } catch (e) {
    source.destroy();
    await writer.abort();
    throw e;
  }
}

/** Remembers `info` as the `compression` blob of every snapshot in `rows` (one per snapshot). */
export function rememberBlob(storage: CacheStorage, rows: readonly LayerBlobEntry[], info: LayerBlobInfo, origin?: LayerBlobOrigin): void {
  const seen = new Set<string>();
  for (const r of rows) {
    if (seen.has(r.snapshotId)) continue;
    seen.add(r.snapshotId);
    storage.layerBlobs.put({
      snapshotId: r.snapshotId,
      compression: info.compression,
      blobDigest: info.digest,
      diffId: info.diffId,
      size: info.size,
      mediaType: layerMediaType(info.compression, 'oci'),
      origin: origin ?? r.origin,
    });
  }
}

/** A blob made for one transfer that no entry remembers: garbage once the transfer is done. */
export interface TransientBlob {
  readonly digest: string;
  /** A time (ms) not before its commit: a later mtime means someone claimed it. */
  readonly madeAtMs: number;
}

/**
 * The layer whose blob is `from` (as named by a manifest) in `opts.compression`: a blob made
 * earlier for the same diff_id when the store still has it, else converted now (and `transient`
 * when no snapshot's entry can remember it).
 */
export async function blobInCompression(storage: CacheStorage, from: BlobRef, opts: LayerOptions, signal: AbortSignal): Promise<LayerBlobInfo & { readonly transient?: TransientBlob }> {
  const rows = storage.layerBlobs.byDiffId(from.diffId);
  for (const r of rows) {
    if (r.compression !== opts.compression) continue;
    const info = await storage.content.info(r.blobDigest, { signal });
    if (info) {
      // Claimed: a collection running now must not take it before the new manifest names it.
      await storage.content.claim(r.blobDigest, { signal });
      return { digest: r.blobDigest, size: info.size, diffId: r.diffId, uncompressedSize: -1, compression: r.compression };
    }
  }
  const info = await convertBlob(storage, from, opts, signal);
  if (rows.length === 0) return { ...info, transient: { digest: info.digest, madeAtMs: Date.now() } };
  rememberBlob(storage, rows, info);
  return info;
}
