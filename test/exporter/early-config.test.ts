/**
 * The image store's export writes the config and manifest as soon as the last layer's tar is
 * hashed, beside that layer's fsync and commit (src/exporter/layers.ts, pendingLayerBlob), and
 * names the image only once every blob is committed: a layer whose fsync fails leaves no image.
 * The real content store, overlay2 snapshotter (no mounts: files go into the upper dirs) and
 * differ; the layer file's fsync is held back (or failed) through `fs.fsync`, which the writer
 * calls through the module object.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import fs from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheStorage } from '../../src/cache/cache-storage.js';
import { inventoryFromSnapshotter } from '../../src/cache/snapshot-inventory.js';
import { ImageStoreExporter } from '../../src/exporter/image-exporter.js';
import { layerBlobFor } from '../../src/exporter/layers.js';
import type { ExportContext } from '../../src/exporter/types.js';
import type { ImageConfig } from '../../src/oci/types.js';
import { Overlay2Differ } from '../../src/worker/diff/differ.js';
import { Overlay2Snapshotter } from '../../src/worker/snapshot/overlay2-snapshotter.js';
import { describeIf, isRoot } from '../helpers/skip.js';

const CONFIG: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  config: {},
  rootfs: { type: 'layers', diff_ids: [] },
  history: [{ created_by: 'base' }, { created_by: 'top' }],
};

describeIf(isRoot, 'the overlay2 snapshotter keeps Docker-compatible ownership; it needs root', 'export: config and manifest beside the last layer\'s commit', () => {
  let dir: string;
  let snapshotter: Overlay2Snapshotter;
  let storage: CacheStorage;
  let ctx: ExportContext;
  const { fsync } = fs;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-early-config-'));
    snapshotter = new Overlay2Snapshotter({ root: dir });
    storage = await CacheStorage.open({ root: dir, inventory: inventoryFromSnapshotter(snapshotter, { overlayDir: join(dir, 'overlay2') }) });
    ctx = {
      storage, snapshotter, differ: new Overlay2Differ({ snapshotter }), tmpDir: dir, signal: new AbortController().signal,
      progress: { digest: '', log: () => undefined, status: () => undefined, warn: () => undefined },
      openOutput: () => Promise.reject(new Error('no output')),
    };
  });
  afterEach(async () => {
    fs.fsync = fsync;
    storage.close();
    await snapshotter.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** base ← top, each with one file; the base layer's blob already made. */
  async function chain(): Promise<string> {
    const layer = async (parent: string | undefined, name: string): Promise<string> => {
      const a = await snapshotter.prepare(parent ? { parent } : {});
      await writeFile(join(a.upperDir, name), `${name}\n`);
      return snapshotter.commit(a);
    };
    const base = await layer(undefined, 'base');
    await layerBlobFor(base, { compression: 'uncompressed', sourceDateEpoch: undefined }, ctx);
    return layer(base, 'top');
  }

  /** Holds back the first fsync of a file in the ingest dir (the top layer's) until `release`. */
  function holdLayerFsync(): { readonly held: Promise<void>; release(error?: NodeJS.ErrnoException): void } {
    let onHeld: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (onHeld = resolve));
    let release: (error?: NodeJS.ErrnoException) => void = () => undefined;
    let armed = true;
    fs.fsync = ((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      const path = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (!armed || !path.startsWith(storage.content.paths.ingest)) return fsync(fd, cb);
      armed = false;
      release = (error) => (error ? cb(error) : fsync(fd, cb));
      onHeld();
    }) as typeof fs.fsync;
    return { held, release: (error) => release(error) };
  }

  const blobs = async (): Promise<string[]> => (await readdir(storage.content.paths.blobs)).sort();

  test('the config and manifest are stored while the last layer is still being synced; the name only after it', async () => {
    const top = await chain();
    const before = await blobs();
    const hold = holdLayerFsync();
    const exported = new ImageStoreExporter().export({ snapshot: top, config: CONFIG, names: ['docker.io/library/early:latest'], attrs: new Map(), sourceDateEpoch: undefined }, ctx);
    await hold.held;
    // The layer waits for its fsync; the config and manifest do not wait for the layer.
    for (let i = 0; i < 200 && (await blobs()).length < before.length + 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await blobs()).length).toBe(before.length + 2);
    expect(storage.images.list()).toEqual([]);
    hold.release();
    const res = await exported;
    expect(await blobs()).toHaveLength(before.length + 3);
    const manifest = JSON.parse((await storage.content.readAll(res.imageDigest as string)).toString()) as { layers: { digest: string }[]; config: { digest: string } };
    expect(manifest.config.digest).toBe(res.configDigest);
    for (const l of manifest.layers) expect(await storage.content.has(l.digest)).toBe(true);
    expect(storage.images.list().map((e) => e.manifestDigest)).toEqual([res.imageDigest]);
  }, 60_000);

  test('a last layer whose fsync fails fails the export and names no image', async () => {
    const top = await chain();
    const hold = holdLayerFsync();
    const exported = new ImageStoreExporter().export({ snapshot: top, config: CONFIG, names: ['docker.io/library/early:latest'], attrs: new Map(), sourceDateEpoch: undefined }, ctx);
    await hold.held;
    hold.release(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', errno: -5, syscall: 'fsync' }));
    await expect(exported).rejects.toMatchObject({ code: 'EIO' });
    expect(storage.images.list()).toEqual([]);
    expect(await readdir(storage.content.paths.ingest)).toEqual([]);
  }, 60_000);
});
