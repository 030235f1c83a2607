/**
 * Layer compressions: buildx's `compression=`, `compression-level=` and `force-compression=`
 * attributes; zstd blobs (zstd-napi, several worker threads) that depend only on the input bytes
 * and the level, decoded back by the layer applier's decompressor, as are gzip and plain tars; and
 * the zstd CLI agreeing that our frames are valid.
 */
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { layerOptions } from '../../src/exporter/image-build.js';
import { compressionOfMediaType, layerMediaType } from '../../src/exporter/layer-compress.js';
import { writeLayerBlob, type Compression } from '../../src/exporter/layer-blob.js';
import { decompressLayer } from '../../src/worker/diff/decompress.js';
import { haveBinary } from '../helpers/skip.js';

/** Deterministic bytes, half text, half pseudo-random (so both paths of the compressors run). */
function sample(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (i >> 16) % 2 === 0 ? 0x61 + (i % 23) : x & 0xff;
  }
  return out;
}

/** `buf` in chunks of `size` bytes, as a tar stream would come. */
function chunked(buf: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

async function compress(buf: Buffer, compression: Compression, chunk: number, level?: number): Promise<{ blob: Buffer; digest: string; diffId: string }> {
  const parts: Buffer[] = [];
  const sink = new Writable({ write(c: Buffer, _e, cb) { parts.push(c); cb(); } });
  const info = await writeLayerBlob(chunked(buf, chunk), sink, { compression, ...(level !== undefined ? { level } : {}) });
  return { blob: Buffer.concat(parts), digest: info.digest, diffId: info.diffId };
}

async function decode(blob: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of decompressLayer(chunked(blob, 65536))) parts.push(c);
  return Buffer.concat(parts);
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('layer options from -o attributes', () => {
  const opts = (kv: Record<string, string>): ReturnType<typeof layerOptions> => layerOptions(new Map(Object.entries(kv)));

  test('gzip by default; zstd, uncompressed, levels and force-compression as buildx has them', () => {
    expect(opts({})).toEqual({ compression: 'gzip' });
    expect(opts({ compression: 'zstd', 'compression-level': '19', 'force-compression': 'true' })).toEqual({ compression: 'zstd', level: 19, force: true });
    expect(opts({ compression: 'gzip', 'compression-level': '0', 'force-compression': 'false' })).toEqual({ compression: 'gzip', level: 0 });
    expect(opts({ compression: 'uncompressed', 'compression-level': '3' })).toEqual({ compression: 'uncompressed' });
  });

  test('bad values are one clear error', () => {
    expect(() => opts({ compression: 'lz4' })).toThrow('unsupported compression "lz4" (use gzip, zstd or uncompressed)');
    expect(() => opts({ compression: 'gzip', 'compression-level': '10' })).toThrow('invalid compression-level "10" for gzip (0-9)');
    expect(() => opts({ compression: 'zstd', 'compression-level': '23' })).toThrow('invalid compression-level "23" for zstd (0-22)');
    expect(() => opts({ compression: 'zstd', 'compression-level': '' })).toThrow('invalid compression-level "" for zstd (0-22)');
    expect(() => opts({ 'force-compression': 'yes' })).toThrow('invalid force-compression=yes: expected true or false');
  });

  test('media types: zstd is the OCI type in both flavours', () => {
    expect(layerMediaType('zstd', 'docker')).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    expect(layerMediaType('gzip', 'docker')).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
    expect(layerMediaType('uncompressed', 'oci')).toBe('application/vnd.oci.image.layer.v1.tar');
    expect(compressionOfMediaType('application/vnd.docker.image.rootfs.diff.tar.gzip')).toBe('gzip');
    expect(compressionOfMediaType('application/vnd.oci.image.layer.v1.tar+zstd')).toBe('zstd');
    expect(compressionOfMediaType('application/vnd.oci.image.layer.v1.tar')).toBe('uncompressed');
  });
});

describe('layer blobs in each compression', () => {
  const data = sample(3 * 1024 * 1024 + 777);

  test.each(['gzip', 'zstd', 'uncompressed'] as const)('%s: the diff_id is the input digest and the applier decodes the blob back', async (c) => {
    const r = await compress(data, c, 65536);
    expect(r.diffId).toBe(sha(data));
    expect(r.digest).toBe(sha(r.blob));
    expect((await decode(r.blob)).equals(data)).toBe(true);
    if (c === 'zstd') expect(r.blob.subarray(0, 4)).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
  });

  test('zstd blobs depend on the bytes and the level only, not on how the input was chunked', async () => {
    const a = await compress(data, 'zstd', 65536);
    const b = await compress(data, 'zstd', 1_000_003);
    expect(b.digest).toBe(a.digest);
    const hi = await compress(data, 'zstd', 65536, 19);
    expect(hi.digest).not.toBe(a.digest);
    expect(hi.blob.length).toBeLessThan(a.blob.length);
  });

  test('a corrupt or truncated zstd blob is a malformed-layer error, not a crash', async () => {
    const { blob } = await compress(data, 'zstd', 65536);
    const bad = Buffer.from(blob);
    bad.fill(0x55, 100, 400);
    await expect(decode(bad)).rejects.toThrow(/zstd stream is corrupt/);
    await expect(decode(blob.subarray(0, blob.length - 10))).rejects.toThrow(/zstd stream is corrupt/);
  });

  test('the zstd CLI reads our frames', () => {
    if (!haveBinary('zstd')) return;
    return compress(data, 'zstd', 65536).then(({ blob }) => {
      const r = spawnSync('zstd', ['-dc'], { input: blob, maxBuffer: 64 * 1024 * 1024 });
      expect(r.status).toBe(0);
      expect(sha(r.stdout)).toBe(sha(data));
    });
  });
});
