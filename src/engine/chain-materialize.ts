/**
 * Turns an imported record's layer chain into committed snapshots. Each layer is found again
 * through its `chain:<chain id>` record — the same records FROM uses, so a base image unpacked
 * once serves both — or applied from its blob, checked against its diff_id and remembered in the
 * layer-blob cache so that exports and pushes reuse the very blob that was downloaded. Only the
 * blobs of layers that are not unpacked yet are fetched, in parallel, before they are applied in
 * order. Empty layers are made locally (an empty tar), never downloaded.
 */
import { Readable } from 'node:stream';
import type { CacheStorage } from '../cache/cache-storage.js';
import type { Descriptor } from '../oci/types.js';
import type { CacheBlobFetcher, ChainLayer } from '../cache/remote/index.js';
import { chainIds } from '../oci/chain-id.js';
import { TsbuildError } from '../util/errors.js';
import { allOrFirstError } from '../util/parallel.js';
import { chainRecordKey } from '../worker/ops/image-unpack.js';
import type { LayerApplier, Snapshotter } from '../worker/types.js';

export interface MaterializeServices {
  readonly storage: CacheStorage;
  readonly snapshotter: Snapshotter;
  readonly applier: LayerApplier;
}

/** One per build: it counts what it downloaded and applies each chain id once even when asked twice. */
export class ChainMaterializer {
  readonly #s: MaterializeServices;
  readonly #applied = new Map<string, Promise<string>>();
  readonly #fetching = new Map<string, Promise<void>>();
  #bytes = 0;
  #blobs = 0;

  constructor(services: MaterializeServices) {
    this.#s = services;
  }

  /** Bytes and blobs fetched from imported caches so far. */
  get fetched(): { readonly bytes: number; readonly blobs: number } {
    return { bytes: this.#bytes, blobs: this.#blobs };
  }

  /** The committed snapshot holding the whole chain (undefined for an empty chain). */
  async materialize(chain: readonly ChainLayer[], fetcher: CacheBlobFetcher, signal: AbortSignal): Promise<string | undefined> {
    if (chain.length === 0) return undefined;
    const ids = chainIds(chain.map((l) => l.diffId));
    // The highest layer that already exists; everything above it is applied.
    let have = -1;
    for (let i = ids.length - 1; i >= 0; i--) {
      if (this.#applied.has(ids[i] as string) || (await this.#existing(ids[i] as string)) !== undefined) {
        have = i;
        break;
      }
    }
    const missing = chain.slice(have + 1).flatMap((l) => (l.kind === 'blob' ? [l.blob] : []));
    await this.#fetchAll(missing, fetcher, signal);
    let parent: string | undefined = have >= 0 ? await this.#layer(ids[have] as string, chain[have] as ChainLayer, undefined, signal) : undefined;
    for (let i = have + 1; i < chain.length; i++) {
      parent = await this.#layer(ids[i] as string, chain[i] as ChainLayer, parent, signal);
    }
    return parent;
  }

  async #fetchAll(blobs: readonly Descriptor[], fetcher: CacheBlobFetcher, signal: AbortSignal): Promise<void> {
    const unique = [...new Map(blobs.map((b) => [b.digest, b])).values()];
    // The first failure stops the other downloads of this chain (their writers abort); that
    // failure, not the cancellations it caused, is what the caller sees.
    await allOrFirstError(unique, { concurrency: 3, signal }, (b, _i, sig) => this.#fetchOne(b, fetcher, sig));
  }

  /** One download per blob per build, however many chains share it. */
  #fetchOne(blob: Descriptor, fetcher: CacheBlobFetcher, signal: AbortSignal): Promise<void> {
    let p = this.#fetching.get(blob.digest);
    if (!p) {
      p = fetcher.fetch(blob, { signal }).then((n) => {
        if (n > 0) {
          this.#bytes += n;
          this.#blobs++;
        }
      });
      this.#fetching.set(blob.digest, p);
      p.catch(() => this.#fetching.delete(blob.digest));
    }
    return p;
  }

  /** The snapshot of an existing chain id, if its record and snapshot both still exist. */
  async #existing(chainId: string): Promise<string | undefined> {
    const rec = this.#s.storage.records.get(chainRecordKey(chainId), 0);
    if (!rec) return undefined;
    const ok = await this.#s.snapshotter.stat(rec.resultId).then((st) => st.kind === 'committed', () => false);
    return ok ? rec.resultId : undefined;
  }

  #layer(chainId: string, layer: ChainLayer, parent: string | undefined, signal: AbortSignal): Promise<string> {
    let p = this.#applied.get(chainId);
    if (!p) {
      p = this.#apply(chainId, layer, parent, signal);
      this.#applied.set(chainId, p);
      p.catch(() => this.#applied.delete(chainId));
    }
    return p;
  }

  async #apply(chainId: string, layer: ChainLayer, parent: string | undefined, signal: AbortSignal): Promise<string> {
    const existing = await this.#existing(chainId);
    if (existing !== undefined) return existing;
    const { storage, applier, snapshotter } = this.#s;
    const stream = layer.kind === 'blob' ? await storage.content.reader(layer.blob.digest, { signal }) : Readable.from([Buffer.alloc(1024)]);
    const applied = await applier.apply(stream, {
      signal,
      ...(layer.kind === 'blob' ? { digest: layer.blob.digest } : {}),
      ...(parent !== undefined ? { parent } : {}),
    });
    if (applied.diffId !== layer.diffId) {
      await snapshotter.remove(applied.id).catch(() => undefined);
      const what = layer.kind === 'blob' ? `blob ${layer.blob.digest}` : 'empty layer';
      throw new TsbuildError('CACHE_LAYER_MISMATCH', `imported ${what} has diff_id ${applied.diffId}, the cache says ${layer.diffId}`);
    }
    if (layer.kind === 'blob') {
      const mt = layer.blob.mediaType;
      storage.layerBlobs.put({
        snapshotId: applied.id,
        compression: /gzip/.test(mt) ? 'gzip' : /zstd/.test(mt) ? 'zstd' : 'uncompressed',
        blobDigest: layer.blob.digest,
        diffId: applied.diffId,
        size: layer.blob.size,
        mediaType: mt,
      });
    }
    await storage.records.save({ key: chainRecordKey(chainId), output: 0, resultId: applied.id, recordType: 'regular', description: `imported layer ${layer.diffId.slice(0, 19)}`, replace: true }, { signal });
    return applied.id;
  }
}
