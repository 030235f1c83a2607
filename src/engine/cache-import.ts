/**
 * `--cache-from`: reads the metadata of each imported cache — a cache manifest (or an image with
 * inline cache) from a registry, or an OCI layout directory — and nothing else. Blobs are fetched
 * later, one chain at a time, when the solver actually needs a result (remote-loader.ts).
 *
 * A cache that cannot be read is a warning, not an error (BuildKit does the same): the first build
 * of a branch has no cache yet, and a build must not fail because its cache is unreachable.
 */
import type { CacheStorage } from '../cache/cache-storage.js';
import {
  CACHE_CONFIG_MEDIA_TYPE, INLINE_CACHE_FIELD, checkCacheConfig, layoutFetcher, parseCacheConfig, readCacheLayout,
  type CacheBlobFetcher, type CacheImportSpec, type ImportedCache,
} from '../cache/remote/index.js';
import type { Descriptor, ImageConfig, ImageManifest } from '../oci/types.js';
import type { RegistryClient } from '../registry/client.js';
import { DEFAULT_PLATFORM } from '../registry/platform.js';
import { formatReference, parseReference } from '../oci/reference.js';
import type { Reference } from '../oci/reference.js';
import { resolve } from 'node:path';
import { contentSink, discardSink } from './registry-access.js';

export interface ImportContext {
  readonly storage: CacheStorage;
  readonly registry: () => RegistryClient;
  readonly signal: AbortSignal;
}

/** What one `--cache-from` gave: a cache, or why there is none. */
export type ImportOutcome =
  | { readonly kind: 'imported'; readonly cache: ImportedCache; readonly records: number }
  | { readonly kind: 'unavailable'; readonly name: string; readonly reason: string };

export function importName(spec: CacheImportSpec): string {
  switch (spec.kind) {
    case 'registry':
      return spec.ref;
    case 'local':
      return `local cache ${spec.src}`;
  }
}

function registryFetcher(ctx: ImportContext, ref: Reference): CacheBlobFetcher {
  const name = `${ref.domain}/${ref.path}`;
  return {
    name,
    async fetch(blob: Descriptor, o): Promise<number> {
      if (await ctx.storage.content.claim(blob.digest)) return 0;
      const outcome = await ctx.registry().fetchBlob({ ref, descriptor: blob, sink: contentSink(ctx.storage), signal: o.signal });
      return outcome === 'downloaded' ? blob.size : 0;
    },
  };
}

/** Image config diff_ids and manifest layers, paired by position (an empty layer is in both). */
function blobsByDiffId(config: ImageConfig, manifest: ImageManifest): Map<string, Descriptor> {
  const out = new Map<string, Descriptor>();
  const ids = config.rootfs?.diff_ids ?? [];
  manifest.layers.forEach((l, i) => {
    const d = ids[i];
    if (d !== undefined) out.set(d, l);
  });
  return out;
}

async function importRegistry(ctx: ImportContext, ref: Reference): Promise<ImportOutcome> {
  const name = formatReference(ref);
  const res = await ctx.registry().pull({ ref, sink: discardSink(), layers: 'none', platform: DEFAULT_PLATFORM, signal: ctx.signal });
  const fetcher = registryFetcher(ctx, ref);
  if (res.manifest.config.mediaType === CACHE_CONFIG_MEDIA_TYPE) {
    const config = parseCacheConfig(res.configBytes, name);
    return { kind: 'imported', cache: { name, config, fetcher }, records: config.records.length };
  }
  const field = (res.config as unknown as Record<string, unknown>)[INLINE_CACHE_FIELD];
  if (field === undefined) return { kind: 'unavailable', name, reason: 'it is an image without inline cache metadata' };
  const config = checkCacheConfig(field, name);
  return { kind: 'imported', cache: { name, config, fetcher, blobsByDiffId: blobsByDiffId(res.config, res.manifest) }, records: config.records.length };
}

async function importLocal(ctx: ImportContext, spec: Extract<CacheImportSpec, { kind: 'local' }>): Promise<ImportOutcome> {
  const dir = resolve(spec.src);
  const layout = await readCacheLayout(dir, { tag: spec.tag, ...(spec.digest !== undefined ? { digest: spec.digest } : {}) }, ctx.signal);
  const name = `local cache ${dir}`;
  if (layout.manifest.config.mediaType !== CACHE_CONFIG_MEDIA_TYPE) return { kind: 'unavailable', name, reason: `its manifest is not a tsbuild cache (config type ${layout.manifest.config.mediaType})` };
  const config = parseCacheConfig(layout.configBytes, name);
  return { kind: 'imported', cache: { name, config, fetcher: layoutFetcher(dir, ctx.storage.content) }, records: config.records.length };
}

/**
 * Reads one `--cache-from`. An invalid reference and cancellation reject; every other failure is an
 * `unavailable` outcome.
 */
export async function importCache(ctx: ImportContext, spec: CacheImportSpec): Promise<ImportOutcome> {
  // A malformed reference is the user's to fix, not a cache that happens to be missing.
  const ref = spec.kind === 'registry' ? parseReference(spec.ref) : undefined;
  try {
    if (ref) return await importRegistry(ctx, ref);
    if (spec.kind === 'local') return await importLocal(ctx, spec);
    throw new Error('unreachable: registry spec without reference');
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    return { kind: 'unavailable', name: importName(spec), reason: e instanceof Error ? e.message : String(e) };
  }
}
