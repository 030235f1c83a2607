/**
 * Pulling an image: resolve the reference to a manifest (picking the platform from an index),
 * fetch and verify the config, then download the layers in parallel into the sink. Manifests and
 * the config are stored too, so the sink ends up holding the whole image graph.
 */
import type { Descriptor, ImageConfig, Platform } from '../oci/types.js';
import { allOrFirstError } from '../util/parallel.js';
import { downloadBlob, fetchBlobBytes, storeBytes } from './blob-download.js';
import { RegistryError } from './errors.js';
import { fetchManifest } from './manifest-fetch.js';
import { DEFAULT_PLATFORM, formatPlatform, selectPlatform } from './platform.js';
import { formatReference } from '../oci/reference.js';
import type { RegistryHttp } from './registry-http.js';
import type { BlobSink, ProgressListener, PullResult, PlatformSpec } from './types.js';
import type { Reference } from '../oci/reference.js';

/** Image configs are small; this bounds a hostile one. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export interface PullRun {
  readonly http: RegistryHttp;
  /** Normalized, with a tag or digest. */
  readonly ref: Reference;
  readonly sink: BlobSink;
  readonly platform?: PlatformSpec;
  readonly layers: 'all' | 'none';
  readonly concurrency: number;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

function parseConfig(bytes: Buffer, what: string, digest: string): ImageConfig {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new RegistryError('MANIFEST_INVALID', `${what}: image config ${digest} is not JSON`, { cause: e });
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new RegistryError('MANIFEST_INVALID', `${what}: image config ${digest} is not a JSON object`);
  return v as ImageConfig;
}

export async function pullImage(run: PullRun): Promise<PullResult> {
  const { http, ref, sink } = run;
  const what = `pull ${formatReference(ref)}`;
  const sig = run.signal ? { signal: run.signal } : {};
  const top = await fetchManifest({ http, ref, what, ...sig });
  let index: PullResult['index'];
  let manifestDescriptor: Descriptor;
  let image = top;
  if (top.parsed.kind === 'index') {
    const want = run.platform ?? DEFAULT_PLATFORM;
    const entries = top.parsed.index.manifests;
    const chosen = selectPlatform(entries, want);
    if (!chosen) {
      const have = entries.flatMap((m) => (m.platform && m.platform.os !== 'unknown' ? [formatPlatform(m.platform)] : []));
      throw new RegistryError('PLATFORM_NOT_FOUND', `${what}: no manifest for platform ${formatPlatform(want)} (the image has: ${have.length ? have.join(', ') : 'none'})`);
    }
    index = { descriptor: top.descriptor, index: top.parsed.index, bytes: top.bytes };
    image = await fetchManifest({ http, ref: { domain: ref.domain, path: ref.path, digest: chosen.digest }, what, ...sig });
    if (image.parsed.kind !== 'image') {
      throw new RegistryError('MANIFEST_UNSUPPORTED', `${what}: index entry ${chosen.digest} is itself an index; nested indexes are not supported`);
    }
    manifestDescriptor = { ...image.descriptor, ...(chosen.platform ? { platform: chosen.platform } : {}) };
  } else {
    manifestDescriptor = top.descriptor;
  }
  if (image.parsed.kind !== 'image') throw new Error('unreachable: image manifest expected');
  const manifest = image.parsed.manifest;
  const configBytes = await fetchBlobBytes({ http, ref, descriptor: manifest.config, what, limit: MAX_CONFIG_BYTES, ...sig });
  const config = parseConfig(configBytes, what, manifest.config.digest);
  await storeBytes(sink, manifest.config, configBytes, run.signal);
  if (run.layers === 'all') await downloadLayers(run, manifest.layers, what);
  // Manifests last: a sink that holds a manifest then holds everything it needs.
  await storeBytes(sink, manifestDescriptor, image.bytes, run.signal);
  if (index) await storeBytes(sink, index.descriptor, index.bytes, run.signal);
  const platform: Platform = manifestDescriptor.platform ?? {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant ? { variant: config.variant } : {}),
  };
  return {
    ref,
    digest: top.descriptor.digest,
    ...(index ? { index } : {}),
    manifestDescriptor,
    manifest,
    manifestBytes: image.bytes,
    config,
    configBytes,
    layers: manifest.layers,
    platform,
  };
}

/**
 * Downloads blobs in parallel. The first failure cancels the rest; every started writer is
 * aborted before the error is thrown, so nothing partial is left in the sink.
 */
export async function downloadLayers(run: PullRun, layers: readonly Descriptor[], what: string): Promise<void> {
  const unique = [...new Map(layers.map((d) => [d.digest, d])).values()];
  await allOrFirstError(unique, { concurrency: run.concurrency, signal: run.signal }, async (d, _i, signal) => {
    await downloadBlob({ http: run.http, ref: run.ref, descriptor: d, sink: run.sink, what, signal, ...(run.onProgress ? { onProgress: run.onProgress } : {}) });
  });
}
