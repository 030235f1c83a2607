/**
 * The layer compressions an export can ask for (`-o …,compression=gzip|zstd|uncompressed,
 * compression-level=N`, as buildx has them) and the streams that make them. gzip is pigz-style
 * (gzip-blocks.ts: blocks deflated in libuv's thread pool); zstd goes through zstd-napi (src/util/zstd-binding.ts) with zstd's own worker threads, whose output is
 * the same for any worker count ≥ 1 — so a zstd blob, like a gzip one, depends only on the input
 * bytes, the level and the library version (SOURCE_DATE_EPOCH exports stay reproducible).
 */
import { availableParallelism } from 'node:os';
import type { Transform } from 'node:stream';
import { zstdCompressStream } from '../util/zstd-binding.js';
import { BlockGzip } from './gzip-blocks.js';
import { MediaType } from '../oci/types.js';

export type Compression = 'gzip' | 'zstd' | 'uncompressed';

export const COMPRESSIONS: readonly Compression[] = ['gzip', 'zstd', 'uncompressed'];

/** Levels each compression accepts (buildx: gzip 0-9, zstd 0-22; zstd 0 means its default, 3). */
export const LEVELS: Readonly<Record<Exclude<Compression, 'uncompressed'>, readonly [number, number]>> = {
  gzip: [0, 9],
  zstd: [0, 22],
};

/** zstd's worker threads for one stream: every core (they sit idle while input is awaited). */
const ZSTD_WORKERS = Math.max(1, availableParallelism());

/** A Transform from tar bytes to the compressed blob; undefined for `uncompressed`. */
export async function compressor(compression: Compression, level: number | undefined): Promise<Transform | undefined> {
  switch (compression) {
    case 'uncompressed':
      return undefined;
    case 'gzip':
      return new BlockGzip(level !== undefined ? { level } : {});
    case 'zstd':
      return zstdCompressStream({ level: level ?? 3, workers: ZSTD_WORKERS });
  }
}

/**
 * The layer media type for a compression, in OCI or Docker flavour. Docker's schema 2 has no zstd
 * layer type; BuildKit writes the OCI one there too, and so do we.
 */
export function layerMediaType(compression: Compression, flavour: 'oci' | 'docker'): string {
  if (compression === 'zstd') return MediaType.ociLayerZstd;
  if (flavour === 'docker') return compression === 'gzip' ? MediaType.dockerLayerGzip : MediaType.dockerLayer;
  return compression === 'gzip' ? MediaType.ociLayerGzip : MediaType.ociLayer;
}

/** The compression a layer media type names (unknown types are taken as uncompressed tar). */
export function compressionOfMediaType(mediaType: string): Compression {
  if (/gzip$/.test(mediaType)) return 'gzip';
  if (/zstd$/.test(mediaType)) return 'zstd';
  return 'uncompressed';
}
