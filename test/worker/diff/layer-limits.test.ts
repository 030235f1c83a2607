/**
 * Layer limits: a decompression bomb (gzip of a terabyte of zeros, generated while it is read),
 * an entry flood (a million tiny entries, generated likewise), too deep or too long paths and
 * oversized xattrs each stop the apply with one error naming the layer digest and the limit; the
 * half-made snapshot is removed. The generators count what was pulled from them, so the tests
 * also show that the apply stopped reading soon after the limit, and a safety cap ends a
 * generator that was never stopped (an apply without limits) quickly instead of filling the disk.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Overlay2Applier } from '../../../src/worker/diff/applier.js';
import { DEFAULT_LAYER_LIMITS, layerLimitsFromEnv } from '../../../src/worker/diff/layer-limits.js';
import type { LayerLimits } from '../../../src/worker/diff/layer-limits.js';
import { Overlay2Snapshotter } from '../../../src/worker/snapshot/overlay2-snapshotter.js';
import { overlayEntries } from '../../helpers/data-root-disk.js';
import { describeIf } from '../../helpers/skip.js';
import { canMount, makeTempDir, removeTempDir, whyNoMount } from '../snapshot/fixtures.js';
import { END_OF_ARCHIVE, buildTar, paxBody, rawEntry, rawHeader } from './tar-fixtures.js';

const DIGEST = `sha256:${'b0'.repeat(32)}`;
const MiB = 1024 * 1024;

/** A gzip'ed tar holding one file of `declared` zero bytes, generated as it is read. */
function gzipBomb(declared: number, safetyCap: number): { stream: Readable; produced: () => number } {
  let produced = 0;
  const zeros = Buffer.alloc(MiB);
  async function* tar(): AsyncGenerator<Buffer> {
    yield rawEntry({ name: 'PaxHeaders/zeros', typeflag: 'x' }, paxBody({ size: String(declared) }));
    yield rawHeader({ name: 'zeros', typeflag: '0' });
    for (let left = declared; left > 0; left -= zeros.length) {
      if (produced > safetyCap) throw new Error(`the bomb was read past its ${safetyCap}-byte safety cap: nothing stopped the apply`);
      produced += zeros.length;
      yield zeros;
    }
  }
  const gz = createGzip({ level: 1 });
  // pipeline() hands the generator's error (the safety cap) on to the gzip stream the apply reads.
  pipeline(Readable.from(tar()), gz).catch(() => undefined);
  return { stream: gz, produced: () => produced };
}

/** A plain tar of `count` empty files, generated as it is read (64 entries per chunk). */
function entryFlood(count: number, safetyCap: number): { stream: Readable; produced: () => number } {
  let produced = 0;
  async function* tar(): AsyncGenerator<Buffer> {
    yield rawEntry({ name: 'flood/', typeflag: '5', mode: 0o755 });
    while (produced < count) {
      if (produced > safetyCap) throw new Error(`the flood was read past its ${safetyCap}-entry safety cap: nothing stopped the apply`);
      const batch: Buffer[] = [];
      for (let i = 0; i < 64; i++) batch.push(rawHeader({ name: `flood/${String(produced++).padStart(7, '0')}`, typeflag: '0' }));
      yield Buffer.concat(batch);
    }
    yield END_OF_ARCHIVE;
  }
  return { stream: Readable.from(tar()), produced: () => produced };
}

describe('layer limits from the environment', () => {
  test('defaults, when nothing is set', () => {
    expect(layerLimitsFromEnv({})).toEqual(DEFAULT_LAYER_LIMITS);
    expect(DEFAULT_LAYER_LIMITS).toEqual({ maxBytes: 128 * 1024 ** 3, maxEntries: 2_000_000, maxPathBytes: 4096, maxPathDepth: 1024, maxXattrBytes: 65536 });
  });

  test('each variable sets one limit; sizes take K/M/G/T suffixes', () => {
    expect(layerLimitsFromEnv({
      TSBUILD_LAYER_MAX_BYTES: '10G', TSBUILD_LAYER_MAX_ENTRIES: '5000', TSBUILD_LAYER_MAX_PATH_BYTES: '1024',
      TSBUILD_LAYER_MAX_PATH_DEPTH: '64', TSBUILD_LAYER_MAX_XATTR_BYTES: '4k',
    })).toEqual({ maxBytes: 10 * 1024 ** 3, maxEntries: 5000, maxPathBytes: 1024, maxPathDepth: 64, maxXattrBytes: 4096 });
  });

  test('a value that is not a positive whole number is one clear error naming the variable', () => {
    for (const bad of ['lots', '0', '-5', '1.5', '12Q', '']) {
      let err: unknown;
      try {
        layerLimitsFromEnv({ TSBUILD_LAYER_MAX_ENTRIES: bad });
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'LAYER_LIMIT_INVALID' });
      expect((err as Error).message).toContain('TSBUILD_LAYER_MAX_ENTRIES');
    }
  });
});

describeIf(canMount, whyNoMount, 'layer limits on apply', () => {
  let base: string;
  let root: string;
  let snap: Overlay2Snapshotter;

  beforeAll(async () => {
    base = await makeTempDir('tsbuild-limits-');
    root = join(base, 'root');
    snap = new Overlay2Snapshotter({ root });
  });
  afterAll(async () => {
    await snap.close();
    await removeTempDir(base);
  });

  /** Applies with `limits`; expects LAYER_LIMIT_EXCEEDED naming the digest and `env`; no snapshot is left. */
  async function overLimit(layer: Readable, limits: Partial<LayerLimits>, env: string): Promise<string> {
    const applier = new Overlay2Applier({ snapshotter: snap, limits });
    const snapshotsBefore = await snap.list();
    const dirs = (): Promise<string[]> => overlayEntries(root);
    const dirsBefore = await dirs();
    const err = await applier.apply(layer, { digest: DIGEST }).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'LAYER_LIMIT_EXCEEDED' });
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toContain(DIGEST);
    expect(msg).toContain(env);
    expect(await snap.list()).toEqual(snapshotsBefore);
    // Nothing of the half-made snapshot is left on disk either.
    expect(await dirs()).toEqual(dirsBefore);
    return msg;
  }

  test('a gzip bomb (1 TiB of zeros) stops at the byte limit', async () => {
    const bomb = gzipBomb(1024 ** 4, 256 * MiB);
    const msg = await overLimit(bomb.stream, { maxBytes: 8 * MiB }, 'TSBUILD_LAYER_MAX_BYTES');
    expect(msg).toMatch(/more than 8388608 uncompressed bytes/);
    expect(bomb.produced()).toBeLessThan(128 * MiB);
    bomb.stream.destroy();
  }, 60_000);

  test('an entry flood (a million entries) stops at the entry limit', async () => {
    const flood = entryFlood(1_000_000, 50_000);
    const msg = await overLimit(flood.stream, { maxEntries: 1000 }, 'TSBUILD_LAYER_MAX_ENTRIES');
    expect(msg).toMatch(/more than 1000 entries/);
    expect(flood.produced()).toBeLessThan(10_000);
    flood.stream.destroy();
  }, 60_000);

  test('paths deeper than the depth limit, and hardlink targets too', async () => {
    const deep = 'a/b/c/d/e/f/g/h/i';
    expect(await overLimit(Readable.from([await buildTar([{ name: deep, body: 'x' }])]), { maxPathDepth: 8 }, 'TSBUILD_LAYER_MAX_PATH_DEPTH')).toContain(JSON.stringify(deep));
    await overLimit(Readable.from([await buildTar([{ name: 'h', type: 'link', linkname: deep }])]), { maxPathDepth: 8 }, 'TSBUILD_LAYER_MAX_PATH_DEPTH');
    const ok = new Overlay2Applier({ snapshotter: snap, limits: { maxPathDepth: 8 } });
    await ok.apply(Readable.from([await buildTar([{ name: 'a/b/c/d/e/f/g/h', body: 'x' }])]));
  });

  test('paths longer than the path limit', async () => {
    const long = `${'p'.repeat(40)}/${'q'.repeat(40)}`;
    expect(await overLimit(Readable.from([await buildTar([{ name: long, body: 'x' }])]), { maxPathBytes: 64 }, 'TSBUILD_LAYER_MAX_PATH_BYTES')).toContain(JSON.stringify(long));
  });

  test('xattr values larger than the xattr limit', async () => {
    const layer = Buffer.concat([
      rawEntry({ name: 'PaxHeaders/f', typeflag: 'x' }, paxBody({ 'SCHILY.xattr.user.big': 'v'.repeat(65) })),
      rawEntry({ name: 'f', typeflag: '0' }, 'f'),
      END_OF_ARCHIVE,
    ]);
    expect(await overLimit(Readable.from([layer]), { maxXattrBytes: 64 }, 'TSBUILD_LAYER_MAX_XATTR_BYTES')).toContain('user.big');
  });

  test('other apply errors name the layer digest too', async () => {
    const applier = new Overlay2Applier({ snapshotter: snap });
    const err = await applier.apply(Readable.from([await buildTar([{ name: '../escape', body: 'x' }])]), { digest: DIGEST }).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'LAYER_UNSAFE_ENTRY' });
    expect((err as Error).message).toMatch(new RegExp(`^layer ${DIGEST} entry "../escape"`));
  });
});
