/**
 * zstd through zstd-napi, a native binding of libzstd (built with ZSTD_MULTITHREAD), loaded on
 * first use: most commands never touch zstd and should not pay for loading an add-on at start-up.
 * The one place that imports it, for compressing (layer exports) and decompressing (layer pulls).
 */
import type { Transform } from 'node:stream';

type ZstdModule = typeof import('zstd-napi');

let loading: Promise<ZstdModule> | undefined;

function load(): Promise<ZstdModule> {
  return (loading ??= import('zstd-napi').then((m) => ((m as { default?: ZstdModule }).default ?? m)));
}

export interface ZstdCompressOptions {
  /** 1-22; 0 means zstd's default (3). */
  readonly level: number;
  /** zstd's own worker threads; ≥ 1 gives output that does not depend on the count. Frames carry a
   * content checksum, as the zstd CLI writes them, so a corrupt blob fails to decode. */
  readonly workers: number;
}

/** A Transform from bytes to one zstd frame. */
export async function zstdCompressStream(o: ZstdCompressOptions): Promise<Transform> {
  const z = await load();
  return new z.CompressStream({ compressionLevel: o.level, nbWorkers: o.workers, checksumFlag: true });
}

/** A Transform from zstd frames (one or several, concatenated) to the bytes. */
export async function zstdDecompressStream(): Promise<Transform> {
  const z = await load();
  return new z.DecompressStream();
}
