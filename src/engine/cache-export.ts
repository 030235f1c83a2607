/**
 * `--cache-to`: collects the build's records (every step for mode=max; for mode=min only those
 * whose result is part of the final image) with the layer blobs of their snapshot chains, and
 * writes them as a cache manifest to a registry or an OCI layout directory — or, for
 * `type=inline`, returns the metadata to embed in the image config. Layer blobs are the ones the
 * image export uses (made once per snapshot and remembered), so cache and image share blobs.
 * Records this build used from an imported cache without ever loading them are exported too: their
 * blobs are copied from that cache only if the destination lacks them (or, with
 * `force-compression`, fetched, converted and dropped after the export).
 */
import type { Readable } from 'node:stream';
import {
  buildCacheConfig, recordsForKey, serializeCacheConfig, writeCacheLayout, CACHE_CONFIG_MEDIA_TYPE,
  type BuiltCache, type CacheBlobFetcher, type CacheExportSpec, type CacheMode, type ExportLayer, type ExportRecord, type RemoteRecord, type RemoteRecordStore,
} from '../cache/remote/index.js';
import { layerBlobFor } from '../exporter/layers.js';
import { layerMediaType } from '../exporter/layer-blob.js';
import { compressionOfMediaType } from '../exporter/layer-compress.js';
import { blobInCompression, type TransientBlob } from '../exporter/layer-convert.js';
import type { ExportContext, LayerOptions } from '../exporter/types.js';
import { MediaType, type Descriptor, type ImageManifest } from '../oci/types.js';
import type { VertexProgress } from '../progress/types.js';
import type { RegistryClient } from '../registry/client.js';
import { parseReference, formatReference } from '../oci/reference.js';
import type { StepRecord } from '../solver/types.js';
import { throwIfAborted } from '../util/errors.js';
import type { WorkerServices } from '../worker/ops/context.js';
import { sha256 } from '../exporter/image-assemble.js';
import { resolve } from 'node:path';
import { mountSources } from './images/push.js';
import { contentSource } from './registry-access.js';
import { chainIds } from '../oci/chain-id.js';

export interface CacheExportContext {
  readonly services: WorkerServices;
  readonly signal: AbortSignal;
  readonly progress: VertexProgress;
}

/** What the build produced, as the cache export needs it. */
export interface BuildOutcomeForCache {
  readonly steps: readonly StepRecord[];
  /** The final result's snapshot (mode=min keeps records on its chain). */
  readonly finalSnapshot: string | undefined;
  /** The other platforms' final snapshots in a multi-platform build (mode=min keeps their chains too). */
  readonly otherFinalSnapshots?: readonly string[];
  /** The build's imported caches, when it had `--cache-from`. */
  readonly imported: RemoteRecordStore | undefined;
}

/** Records to export, and where blobs that are not in the content store can be fetched from. */
export interface CollectedCache {
  readonly records: readonly ExportRecord[];
  readonly remoteBlobs: ReadonlyMap<string, { readonly blob: Descriptor; readonly fetcher: CacheBlobFetcher }>;
  /** Blobs fetched or made only for this export (force-compression): dropped once it is written. */
  readonly transient: readonly TransientBlob[];
}

function exportContext(ctx: CacheExportContext): ExportContext {
  const s = ctx.services;
  return {
    storage: s.storage, snapshotter: s.snapshotter, differ: s.differ, tmpDir: s.tmpDir, signal: ctx.signal, progress: ctx.progress,
    openOutput: () => Promise.reject(new Error('internal: cache export opens no output')),
  };
}

/** The layers of a snapshot's chain, bottom first, with their blobs (made and cached when needed). */
class ChainLayers {
  readonly #memo = new Map<string, Promise<ExportLayer>>();
  constructor(private readonly ctx: ExportContext, private readonly layers: LayerOptions) {}

  async of(snapshot: string): Promise<ExportLayer[]> {
    const chain = [...(await this.ctx.snapshotter.chain(snapshot))].reverse();
    const out: ExportLayer[] = [];
    for (const id of chain) out.push(await this.#layer(id));
    return out;
  }

  #layer(id: string): Promise<ExportLayer> {
    let p = this.#memo.get(id);
    if (!p) {
      p = layerBlobFor(id, { ...this.layers, sourceDateEpoch: undefined }, this.ctx).then((b) => ({
        diffId: b.diffId,
        blob: { mediaType: layerMediaType(b.compression, 'oci'), digest: b.digest, size: b.size },
      }));
      this.#memo.set(id, p);
    }
    return p;
  }
}

/**
 * With `force-compression`, the layers of records used from an imported cache (never loaded) that
 * are in another compression: each fetched from that cache into the content store once and
 * converted (buildx converts existing layers too when forced). The fetched and the made blobs that
 * no snapshot's entry remembers are transient.
 */
class ForcedImports {
  readonly transient: TransientBlob[] = [];
  readonly #memo = new Map<string, Promise<ExportLayer>>();
  constructor(private readonly ctx: CacheExportContext, private readonly opts: LayerOptions) {}

  /** The record's chain; a layer already in the asked compression stays remote (added to `remote`). */
  async chain(r: RemoteRecord, remote: Map<string, { blob: Descriptor; fetcher: CacheBlobFetcher }>): Promise<ExportLayer[]> {
    const out: ExportLayer[] = [];
    for (const l of r.chain) {
      if (l.kind === 'empty') {
        out.push({ diffId: l.diffId });
      } else if (compressionOfMediaType(l.blob.mediaType) === this.opts.compression) {
        remote.set(l.blob.digest, { blob: l.blob, fetcher: r.source.fetcher });
        out.push({ diffId: l.diffId, blob: l.blob });
      } else {
        let p = this.#memo.get(l.blob.digest);
        if (!p) this.#memo.set(l.blob.digest, (p = this.#convert(l.blob, l.diffId, r.source.fetcher)));
        out.push(await p);
      }
    }
    return out;
  }

  async #convert(blob: Descriptor, diffId: string, fetcher: CacheBlobFetcher): Promise<ExportLayer> {
    const { storage } = this.ctx.services;
    const signal = this.ctx.signal;
    const moved = await fetcher.fetch(blob, { signal });
    if (moved > 0) this.transient.push({ digest: blob.digest, madeAtMs: Date.now() });
    const info = await blobInCompression(storage, { digest: blob.digest, diffId }, this.opts, signal);
    if (info.transient) this.transient.push(info.transient);
    return { diffId, blob: { mediaType: layerMediaType(info.compression, 'oci'), digest: info.digest, size: info.size } };
  }
}

/** Drops an export's transient blobs, unless something claimed one since it was made. */
export async function dropTransientBlobs(ctx: CacheExportContext, transient: readonly TransientBlob[]): Promise<void> {
  for (const b of transient) await ctx.services.storage.content.collect(b.digest, (mtimeMs) => mtimeMs > b.madeAtMs).catch(() => undefined);
}

/**
 * The records to export and their chains' blobs, made as `layerOpts` asks (a cache export's
 * `compression=`…; default gzip). Records used from an imported cache without being loaded keep
 * the blobs they came with, unless `force-compression` converts them (ForcedImports).
 */
export async function collectCache(ctx: CacheExportContext, build: BuildOutcomeForCache, mode: CacheMode, layerOpts: LayerOptions = { compression: 'gzip' }): Promise<CollectedCache> {
  const layers = new ChainLayers(exportContext(ctx), layerOpts);
  const storage = ctx.services.storage;
  const onFinalChain = new Set<string>();
  for (const s of [...(build.finalSnapshot !== undefined ? [build.finalSnapshot] : []), ...(build.otherFinalSnapshots ?? [])]) {
    for (const id of chainIds((await layers.of(s)).map((l) => l.diffId))) onFinalChain.add(id);
  }
  const keep = (chain: readonly ExportLayer[]): boolean => {
    if (mode === 'max') return true;
    const top = chainIds(chain.map((l) => l.diffId)).at(-1);
    return top !== undefined && onFinalChain.has(top);
  };
  const records: ExportRecord[] = [];
  const remoteBlobs = new Map<string, { blob: Descriptor; fetcher: CacheBlobFetcher }>();
  const forced = layerOpts.force === true ? new ForcedImports(ctx, layerOpts) : undefined;
  const keys = [...new Set(build.steps.flatMap((s) => (s.cacheKey !== undefined && (s.outcome === 'cached' || s.outcome === 'executed') ? [s.cacheKey] : [])))];
  try {
    for (const key of keys) {
      throwIfAborted(ctx.signal);
      const local = recordsForKey(storage, key).filter((l) => l.record.recordType !== 'source.local');
      for (const { record, inputs } of local) {
        let chain: ExportLayer[] = [];
        if (record.resultId !== '') {
          // A record whose snapshot was pruned since is simply not exported.
          const exists = await ctx.services.snapshotter.stat(record.resultId).then((s) => s.kind === 'committed', () => false);
          if (!exists) continue;
          chain = await layers.of(record.resultId);
        }
        if (!keep(chain)) continue;
        records.push({ key, output: record.output, recordType: record.recordType, description: record.description, inputs, chain });
      }
      if (local.length > 0 || !build.imported) continue;
      // Used from an imported cache but never loaded: re-export it as it came (converted when forced).
      for (const r of build.imported.forKey(key)) {
        const chain: ExportLayer[] = r.chain.map((l) => (l.kind === 'blob' ? { diffId: l.diffId, blob: l.blob } : { diffId: l.diffId }));
        if (!keep(chain)) continue;
        const { output, recordType, description, inputs } = r.entry;
        if (forced) {
          records.push({ key, output, recordType, description, inputs, chain: await forced.chain(r, remoteBlobs) });
          continue;
        }
        for (const l of r.chain) if (l.kind === 'blob') remoteBlobs.set(l.blob.digest, { blob: l.blob, fetcher: r.source.fetcher });
        records.push({ key, output, recordType, description, inputs, chain });
      }
    }
  } catch (e) {
    // Nothing will push what was converted so far.
    if (forced) await dropTransientBlobs(ctx, forced.transient);
    throw e;
  }
  return { records, remoteBlobs, transient: forced?.transient ?? [] };
}

/** The cache document for `type=inline`: mode=min, blobs found in the image by diff_id. */
export async function inlineCache(ctx: CacheExportContext, build: BuildOutcomeForCache): Promise<BuiltCache> {
  const c = await collectCache(ctx, build, 'min');
  return buildCacheConfig(c.records, { omitBlobs: true });
}

export interface WrittenCache {
  /** The cache manifest's digest. */
  readonly digest: string;
  readonly records: number;
  readonly blobs: number;
}

function cacheManifest(built: BuiltCache): { manifest: Buffer; manifestDescriptor: Descriptor; config: Buffer; configDescriptor: Descriptor } {
  const config = serializeCacheConfig(built.config);
  const configDescriptor: Descriptor = { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: sha256(config), size: config.length };
  const doc: ImageManifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDescriptor, layers: built.blobs };
  const manifest = Buffer.from(JSON.stringify(doc));
  return { manifest, manifestDescriptor: { mediaType: MediaType.ociManifest, digest: sha256(manifest), size: manifest.length }, config, configDescriptor };
}

export interface WriteCacheOptions {
  readonly registry: () => RegistryClient;
  /** Repositories of imported caches (`host/path`), tried as mount sources for their blobs. */
  readonly importedRepos: readonly string[];
}

/** Writes a registry or local cache export. */
export async function writeCache(
  ctx: CacheExportContext, spec: Exclude<CacheExportSpec, { kind: 'inline' }>, collected: CollectedCache, opts: WriteCacheOptions,
): Promise<WrittenCache> {
  const storage = ctx.services.storage;
  const built = buildCacheConfig(collected.records, { omitBlobs: false });
  const m = cacheManifest(built);
  const fetchMissing = async (digest: string, signal: AbortSignal | undefined): Promise<void> => {
    const src = collected.remoteBlobs.get(digest);
    if (src) await src.fetcher.fetch(src.blob, { signal: signal ?? ctx.signal });
  };
  switch (spec.kind) {
    case 'registry': {
      const ref = parseReference(spec.ref);
      const mounts = await mountSources(storage, ref.domain, ctx.signal);
      for (const [digest, src] of collected.remoteBlobs) {
        const repo = src.fetcher.name.startsWith(`${ref.domain}/`) ? src.fetcher.name.slice(ref.domain.length + 1) : undefined;
        if (repo) mounts.set(digest, [...(mounts.get(digest) ?? []), repo]);
      }
      const extraRepos = opts.importedRepos.filter((r) => r.startsWith(`${ref.domain}/`)).map((r) => r.slice(ref.domain.length + 1));
      const res = await opts.registry().push({
        ref,
        root: m.manifestDescriptor,
        source: contentSource(storage, { extra: new Map([[m.manifestDescriptor.digest, m.manifest], [m.configDescriptor.digest, m.config]]), fetchMissing }),
        mountFrom: (blob) => [...new Set([...(mounts.get(blob.digest) ?? []), ...extraRepos])],
        signal: ctx.signal,
        onProgress: (e) => {
          if (e.kind === 'done') ctx.progress.status({ id: e.digest, name: `${e.outcome} ${e.digest.slice(0, 19)}`, current: e.size, total: e.size, completed: Date.now() });
        },
      });
      ctx.progress.log(1, `pushed cache manifest ${formatReference(ref)}@${res.digest}\n`);
      return { digest: res.digest, records: built.config.records.length, blobs: built.blobs.length };
    }
    case 'local': {
      const dir = resolve(spec.dest);
      await writeCacheLayout({
        dir,
        tag: spec.tag,
        manifest: { descriptor: m.manifestDescriptor, bytes: m.manifest },
        config: { descriptor: m.configDescriptor, bytes: m.config },
        blobs: built.blobs,
        open: async (b): Promise<Readable> => {
          if (!(await storage.content.has(b.digest))) await fetchMissing(b.digest, ctx.signal);
          return storage.content.reader(b.digest, { signal: ctx.signal });
        },
        signal: ctx.signal,
      });
      ctx.progress.log(1, `wrote cache manifest ${m.manifestDescriptor.digest} to ${dir}\n`);
      return { digest: m.manifestDescriptor.digest, records: built.config.records.length, blobs: built.blobs.length };
    }
  }
}
